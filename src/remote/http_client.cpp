#include "remote/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include "core/ascii.h"

namespace scribepod::remote {
namespace {

// curl_global_init is not thread-safe and must run before any handle exists;
// the first client does it once for the process. There is deliberately no
// matching cleanup: other clients may live until exit.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

// Body and header sinks for one exchange. The body sink stops the transfer
// (by accepting fewer bytes than offered) once the cap would be passed.
struct Sink {
  HttpResponse* response = nullptr;
  std::size_t max_bytes = 0;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->response->body.size() + n > sink->max_bytes) {
    sink->too_large = true;
    return 0;
  }
  sink->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  // A new status line starts a new header block (after 100 Continue or an
  // informational response); only the final block is kept.
  if (line.starts_with("HTTP/")) {
    sink->response->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = ascii_lowercase(trim_ascii(line.substr(0, colon), " \t\r\n"));
  const std::string_view value = trim_ascii(line.substr(colon + 1), " \t\r\n");
  auto [it, inserted] = sink->response->headers.try_emplace(std::move(name), value);
  if (!inserted) {
    it->second += ", ";
    it->second += value;
  }
  return n;
}

TransportFailure classify(CURLcode code, bool too_large) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return TransportFailure::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::kTimeout;
    case CURLE_FILESIZE_EXCEEDED:
      return TransportFailure::kTooLarge;
    case CURLE_WRITE_ERROR:
      return too_large ? TransportFailure::kTooLarge : TransportFailure::kOther;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportFailure::kDropped;
    default:
      return TransportFailure::kOther;
  }
}

Error transport_error(TransportFailure failure, const std::string& url, std::string_view detail,
                      const ClientOptions& options) {
  switch (failure) {
    case TransportFailure::kConnect:
      return {ErrorCode::kUpstreamFailed, fmt::format("cannot connect to {}: {}", url, detail), {}};
    case TransportFailure::kTimeout:
      return {
          ErrorCode::kUpstreamTimeout,
          fmt::format("{} did not answer in time (connect timeout {} ms, total timeout {} ms): {}",
                      url, options.connect_timeout.count(), options.total_timeout.count(), detail),
          {}};
    case TransportFailure::kTooLarge:
      return {ErrorCode::kUpstreamFailed,
              fmt::format("response from {} is larger than the limit of {} bytes", url,
                          options.max_response_bytes),
              {}};
    case TransportFailure::kDropped:
      return {
          ErrorCode::kUpstreamFailed, fmt::format("connection to {} broke: {}", url, detail), {}};
    case TransportFailure::kOther:
    case TransportFailure::kNone:
      break;
  }
  return {ErrorCode::kUpstreamFailed, fmt::format("request to {} failed: {}", url, detail), {}};
}

// Owns a curl_slist / curl_mime for the duration of one exchange.
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MimeDeleter {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};

}  // namespace

// Easy handles are reused so that their connection caches keep connections
// alive between calls to the same backend. Each handle is used by one thread
// at a time; at most kMaxIdle idle handles are kept.
class HttpClient::HandlePool {
 public:
  ~HandlePool() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  CURL* acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (h == nullptr) throw std::runtime_error("curl_easy_init failed");
    return h;
  }

  void release(CURL* h) {
    curl_easy_reset(h);  // forgets options, keeps live connections
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }

 private:
  static constexpr std::size_t kMaxIdle = 8;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(ascii_lowercase(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string_view transport_failure_name(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kNone:
      return "none";
    case TransportFailure::kConnect:
      return "connect";
    case TransportFailure::kTimeout:
      return "timeout";
    case TransportFailure::kDropped:
      return "dropped";
    case TransportFailure::kTooLarge:
      return "too_large";
    case TransportFailure::kOther:
      return "other";
  }
  return "other";
}

HttpClient::HttpClient(ClientOptions options)
    : options_(options), pool_(std::make_unique<HandlePool>()) {
  init_curl_once();
}

HttpClient::~HttpClient() = default;

Exchange HttpClient::exchange(const HttpRequest& request) const {
  const std::string shown_url = redact_url(request.url);
  CURL* h = pool_->acquire();
  struct Returner {
    HandlePool* pool;
    CURL* h;
    ~Returner() { pool->release(h); }
  } returner{pool_.get(), h};

  HttpResponse response;
  Sink sink{&response, options_.max_response_bytes, false};
  char errbuf[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are threaded
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // any encoding curl can decode
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);

  // "Expect:" stops curl from waiting for 100 Continue before large
  // uploads, which costs a round trip (or a second) for nothing.
  curl_slist* raw_headers = curl_slist_append(nullptr, "Expect:");
  for (const auto& [name, value] : request.headers) {
    raw_headers = curl_slist_append(raw_headers, fmt::format("{}: {}", name, value).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  std::unique_ptr<curl_mime, MimeDeleter> mime;
  if (!request.multipart.empty()) {
    mime.reset(curl_mime_init(h));
    for (const MultipartField& field : request.multipart) {
      curl_mimepart* part = curl_mime_addpart(mime.get());
      curl_mime_name(part, field.name.c_str());
      curl_mime_data(part, field.data.data(), field.data.size());
      if (!field.filename.empty()) curl_mime_filename(part, field.filename.c_str());
      if (!field.content_type.empty()) curl_mime_type(part, field.content_type.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get());
    if (request.method != "POST")
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method == "GET" && request.body.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "GET") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    }
    if (request.method != "POST")
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const auto start = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(h);
  response.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  if (code != CURLE_OK) {
    const TransportFailure failure = classify(code, sink.too_large);
    const std::string_view detail =
        errbuf[0] != '\0' ? std::string_view(errbuf) : curl_easy_strerror(code);
    return {transport_error(failure, shown_url, detail, options_), failure};
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return {std::move(response), TransportFailure::kNone};
}

std::string redact_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t cut = url.find_first_of("?#", authority_start);
  if (cut != std::string_view::npos) url = url.substr(0, cut);
  const size_t authority_end = std::min(url.find('/', authority_start), url.size());
  const size_t at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < authority_start) return std::string(url);
  std::string out(url.substr(0, authority_start));
  out += url.substr(at + 1);
  return out;
}

}  // namespace scribepod::remote
