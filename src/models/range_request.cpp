#include "models/range_request.h"

#include <curl/curl.h>

#include <cctype>
#include <functional>
#include <memory>
#include <string_view>

#include "core/version.h"
#include "telemetry/log.h"

namespace scribepod::models {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

// "https://user@host:8080/path" -> "host:8080": what the user needs to know
// is unreachable.
std::string authority_of(const std::string& url) {
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::size_t end = url.find_first_of("/?#", start);
  std::string auth = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const auto at = auth.rfind('@'); at != std::string::npos) auth.erase(0, at + 1);
  return auth;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The state of one HTTP request, shared with libcurl's callbacks. Headers are
// reset at every status line because redirects (Hugging Face answers 302 to
// its CDN) deliver several header blocks; only the last one has a body.
struct Transfer {
  PartFile* file = nullptr;
  Digests* digests = nullptr;
  std::uint64_t offset = 0;    // bytes on disk when this request began
  std::uint64_t expected = 0;  // catalogue size, 0 if unknown
  const std::function<void(std::uint64_t, std::uint64_t)>* progress = nullptr;

  long status = 0;
  std::optional<std::uint64_t> content_length;
  std::optional<std::uint64_t> range_start;
  std::optional<std::uint64_t> range_total;

  bool decided = false;  // first body byte seen and the response judged
  bool writing = false;  // body goes to the .part
  bool restarted = false;
  bool fatal = false;  // abort_error must not be retried
  bool drop_part = false;
  std::uint64_t total = 0;  // for progress
  std::uint64_t written = 0;
  std::optional<Error> abort_error;

  void reset_headers() {
    status = 0;
    content_length.reset();
    range_start.reset();
    range_total.reset();
  }

  void fail(Error e, bool is_fatal, bool drop = false) {
    abort_error = std::move(e);
    fatal = is_fatal;
    drop_part = drop;
  }

  // Judges the final response once its headers are complete. Returns false
  // to abort the transfer.
  bool decide() {
    decided = true;
    std::optional<std::uint64_t> server_total;
    if (status == 200) {
      if (offset > 0) {
        // The server ignored our Range: what follows is the whole file.
        if (Status s = file->truncate(0); !s) {
          fail(std::move(s).take_error(), true);
          return false;
        }
        digests->reset();
        offset = 0;
        restarted = true;
        log::debug("model download: server ignored Range, restarting", {{"path", file->path()}});
      }
      server_total = content_length;
      writing = true;
    } else if (status == 206) {
      if (range_start.value_or(UINT64_MAX) != offset) {
        fail(
            Error{ErrorCode::kUpstreamFailed,
                  "the server resumed at the wrong byte (asked for " + std::to_string(offset) + ")",
                  {}},
            true);
        return false;
      }
      server_total = range_total;
      if (!server_total && content_length) server_total = offset + *content_length;
      writing = true;
    } else {
      return true;  // an error body: read and discarded
    }
    if (expected > 0 && server_total && *server_total != expected) {
      fail(Error{ErrorCode::kUpstreamFailed,
                 "the server offers " + std::to_string(*server_total) +
                     " bytes but the catalogue expects " + std::to_string(expected) +
                     "; refusing a file that cannot match",
                 {}},
           true);
      return false;
    }
    total = expected > 0 ? expected : server_total.value_or(0);
    if (*progress) (*progress)(offset, total);
    return true;
  }

  std::size_t on_body(const char* data, std::size_t n) {
    if (!decided && !decide()) return 0;
    if (!writing) return n;
    if (expected > 0 && offset + written + n > expected) {
      fail(Error{ErrorCode::kUpstreamFailed,
                 "the server sent more than the expected " + std::to_string(expected) + " bytes",
                 {}},
           true, /*drop=*/true);
      return 0;
    }
    if (Status s = file->append(data, n); !s) {
      fail(std::move(s).take_error(), true);
      return 0;
    }
    digests->update(data, n);
    written += n;
    if (*progress) (*progress)(offset + written, total);
    return n;
  }

  void on_header(std::string_view line) {
    if (line.rfind("HTTP/", 0) == 0) {
      reset_headers();
      const auto sp = line.find(' ');
      if (sp != std::string_view::npos) {
        status = static_cast<long>(parse_u64(trim(line.substr(sp + 1, 3))).value_or(0));
      }
      return;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      content_length = parse_u64(value);
    } else if (name == "content-range") {
      // "bytes 100-199/200" or "bytes */200"
      const auto sp = value.find(' ');
      const auto dash = value.find('-');
      const auto slash = value.find('/');
      if (sp != std::string::npos && dash != std::string::npos && dash > sp) {
        range_start = parse_u64(std::string_view(value).substr(sp + 1, dash - sp - 1));
      }
      if (slash != std::string::npos)
        range_total = parse_u64(std::string_view(value).substr(slash + 1));
    }
  }
};

extern "C" std::size_t write_cb(char* data, std::size_t size, std::size_t nmemb, void* user) {
  return static_cast<Transfer*>(user)->on_body(data, size * nmemb);
}

extern "C" std::size_t header_cb(char* data, std::size_t size, std::size_t nmemb, void* user) {
  static_cast<Transfer*>(user)->on_header(std::string_view(data, size * nmemb));
  return size * nmemb;
}

RangeOutcome outcome(RangeOutcome::Kind kind, std::optional<Error> error = std::nullopt) {
  RangeOutcome o;
  o.kind = kind;
  o.error = std::move(error);
  return o;
}
RangeOutcome fatal(Error e) { return outcome(RangeOutcome::kFatal, std::move(e)); }
RangeOutcome retry(Error e) { return outcome(RangeOutcome::kRetry, std::move(e)); }

RangeOutcome run_request(const ModelEntry& entry, const std::string& dest_path, Transfer& t,
                         const DownloadOptions& options) {
  CurlHandle curl(curl_easy_init());
  if (!curl) return fatal(Error::internal("curl_easy_init failed"));
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string user_agent = std::string("scribepod/") + kVersion;
  const std::string range = std::to_string(t.offset) + "-";
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, entry.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_limit));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  if (t.offset > 0) curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());

  const CURLcode rc = curl_easy_perform(h);
  if (t.abort_error) {
    return t.fatal ? fatal(std::move(*t.abort_error)) : retry(std::move(*t.abort_error));
  }
  const std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
  char* effective = nullptr;
  curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
  const std::string host = authority_of(effective != nullptr ? effective : entry.url);
  const std::string offline = "cannot reach " + host + ": " + detail + " (offline? download " +
                              entry.url + " elsewhere and place it at " + dest_path + ")";
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return fatal(Error{ErrorCode::kUnavailable, offline, {}});
    case CURLE_OPERATION_TIMEDOUT:
      if (t.status == 0) return retry(Error{ErrorCode::kUpstreamTimeout, offline, {}});
      return retry(Error{ErrorCode::kUpstreamTimeout,
                         "download from " + host + " stalled (under " +
                             std::to_string(options.low_speed_limit) + " B/s for " +
                             std::to_string(options.low_speed_time.count()) + " s) after " +
                             std::to_string(t.offset + t.written) + " bytes",
                         {}});
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return retry(Error{ErrorCode::kUpstreamFailed,
                         "connection to " + host + " lost after " +
                             std::to_string(t.offset + t.written) + " bytes: " + detail,
                         {}});
    default:
      return fatal(
          Error{ErrorCode::kUpstreamFailed, "download from " + host + " failed: " + detail, {}});
  }

  if (!t.decided && (t.status == 200 || t.status == 206) && !t.decide()) {
    return t.fatal ? fatal(std::move(*t.abort_error)) : retry(std::move(*t.abort_error));
  }
  const std::string http = "HTTP " + std::to_string(t.status);
  switch (t.status) {
    case 200:
    case 206: {
      const std::uint64_t have = t.offset + t.written;
      const std::uint64_t want = t.expected > 0 ? t.expected : t.total;
      if (want > 0 && have < want) {
        return retry(Error{ErrorCode::kUpstreamFailed,
                           host + " closed the connection after " + std::to_string(have) + " of " +
                               std::to_string(want) + " bytes",
                           {}});
      }
      return outcome(RangeOutcome::kComplete);
    }
    case 416:
      return outcome(RangeOutcome::kRangeNotSatisfiable);
    case 404:
    case 410:
      return fatal(Error::not_found(entry.name + " not found at " + entry.url + " (" + http + ")"));
    case 401:
    case 403:
      return fatal(Error{
          ErrorCode::kUpstreamFailed,
          "access to " + entry.url + " was refused (" + http + "); the file may be gated or moved",
          {}});
    case 408:
    case 429:
      return retry(Error{ErrorCode::kUpstreamFailed, host + " answered " + http, {}});
    default:
      if (t.status >= 500)
        return retry(Error{ErrorCode::kUpstreamFailed, host + " answered " + http, {}});
      return fatal(
          Error{ErrorCode::kUpstreamFailed, "unexpected " + http + " from " + entry.url, {}});
  }
}

}  // namespace

RangeOutcome fetch_range(const ModelEntry& entry, const std::string& dest_path,
                         const RangeRequest& req, const DownloadOptions& options) {
  Transfer t;
  t.file = req.file;
  t.digests = req.digests;
  t.offset = req.offset;
  t.expected = req.expected;
  t.progress = &options.progress;
  RangeOutcome out = run_request(entry, dest_path, t, options);
  out.written = t.written;
  out.restarted = t.restarted;
  out.drop_part = t.drop_part;
  out.range_total = t.range_total;
  return out;
}

}  // namespace scribepod::models
