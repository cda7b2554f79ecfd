#include "http/multipart.h"

#include <array>
#include <functional>
#include <new>
#include <utility>

#include "core/ascii.h"

namespace scribepod::http {
namespace {

constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 section 5.1.1

bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 9110 tchar.
bool is_token_char(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// RFC 2046 bchars.
bool is_boundary_char(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '\'':
    case '(':
    case ')':
    case '+':
    case '_':
    case ',':
    case '-':
    case '.':
    case '/':
    case ':':
    case '=':
    case '?':
    case ' ':
      return true;
    default:
      return false;
  }
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

void skip_ows(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && is_ows(s[pos])) ++pos;
}

std::string_view take_token(std::string_view s, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < s.size() && is_token_char(s[pos])) ++pos;
  return s.substr(start, pos - start);
}

// Parses `type "/" subtype` at the start of `s`, leaving `pos` after it.
std::optional<std::pair<std::string_view, std::string_view>> take_media_type(std::string_view s,
                                                                             std::size_t& pos) {
  const std::string_view type = take_token(s, pos);
  if (type.empty() || pos >= s.size() || s[pos] != '/') return std::nullopt;
  ++pos;
  const std::string_view subtype = take_token(s, pos);
  if (subtype.empty()) return std::nullopt;
  return std::pair{type, subtype};
}

// Reads the parameter list that follows a media type or disposition type:
// *( OWS ";" OWS name "=" ( token / quoted-string ) ), tolerating empty
// entries. Only the `wanted` names (lowercase) are kept, so the cost stays
// linear however many parameters a client sends; a repeated wanted name is an
// error because two readers could pick different copies. Errors are phrases
// for the caller to put in context.
template <std::size_t N>
Result<std::array<std::optional<std::string>, N>> parse_parameters(
    std::string_view s, const std::array<std::string_view, N>& wanted) {
  std::array<std::optional<std::string>, N> values;
  std::size_t pos = 0;
  while (true) {
    skip_ows(s, pos);
    if (pos == s.size()) return values;
    if (s[pos] != ';') return Error::bad_request("expected ';' before a parameter");
    ++pos;
    skip_ows(s, pos);
    if (pos == s.size() || s[pos] == ';') continue;
    const std::string_view name = take_token(s, pos);
    if (name.empty()) return Error::bad_request("a parameter has no name");
    skip_ows(s, pos);
    if (pos == s.size() || s[pos] != '=') {
      return Error::bad_request("parameter " + std::string(name) + " has no value");
    }
    ++pos;
    skip_ows(s, pos);
    std::string value;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      while (pos < s.size() && s[pos] != '"') {
        if (s[pos] == '\\') ++pos;  // quoted-pair: the next byte is literal
        if (pos < s.size()) value.push_back(s[pos++]);
      }
      if (pos == s.size()) return Error::bad_request("a quoted string is not terminated");
      ++pos;
    } else {
      value = take_token(s, pos);
      if (value.empty()) {
        return Error::bad_request("parameter " + std::string(name) + " has no value");
      }
    }
    for (std::size_t i = 0; i < N; ++i) {
      if (!ascii_iequals(name, wanted[i])) continue;
      if (values[i]) return Error::bad_request("parameter " + std::string(wanted[i]) + " repeats");
      values[i] = std::move(value);
      break;
    }
  }
}

Status validate_boundary(std::string_view boundary) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryLength) {
    return Error::bad_request("multipart boundary must be 1 to 70 characters long");
  }
  for (char c : boundary) {
    if (!is_boundary_char(c)) {
      return Error::bad_request("multipart boundary contains a character RFC 2046 does not allow");
    }
  }
  if (boundary.back() == ' ') return Error::bad_request("multipart boundary ends with a space");
  return {};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes an RFC 8187 ext-value, charset'language'percent-encoded, to UTF-8.
std::optional<std::string> decode_ext_value(std::string_view ext) {
  const std::size_t q1 = ext.find('\'');
  const std::size_t q2 = q1 == std::string_view::npos ? q1 : ext.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  const std::string_view charset = ext.substr(0, q1);
  const bool latin1 = ascii_iequals(charset, "iso-8859-1");
  if (!latin1 && !ascii_iequals(charset, "utf-8")) return std::nullopt;
  const std::string_view encoded = ext.substr(q2 + 1);
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    auto byte = static_cast<unsigned char>(encoded[i]);
    if (encoded[i] == '%') {
      const int hi = i + 2 < encoded.size() ? hex_value(encoded[i + 1]) : -1;
      const int lo = hi < 0 ? -1 : hex_value(encoded[i + 2]);
      if (lo < 0) return std::nullopt;
      byte = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    }
    if (latin1 && byte >= 0x80) {  // U+0080..U+00FF as two UTF-8 bytes
      out.push_back(static_cast<char>(0xc0 | (byte >> 6)));
      out.push_back(static_cast<char>(0x80 | (byte & 0x3f)));
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

std::string part_label(std::size_t number) { return "multipart part " + std::to_string(number); }

// Normalizes a part's Content-Type: lowercased media type, then "; " and the
// parameters as sent, checked for syntax only.
Result<std::string> normalize_content_type(std::string_view value, std::size_t number) {
  std::size_t pos = 0;
  const auto media = take_media_type(value, pos);
  const std::string_view rest = value.substr(pos);
  if (!media || !parse_parameters<0>(rest, {}).ok()) {
    return Error::bad_request(part_label(number) + " has an invalid Content-Type");
  }
  std::string out = ascii_lowercase(media->first) + "/" + ascii_lowercase(media->second);
  std::string_view params = trim_ows(rest);
  if (!params.empty()) params = trim_ows(params.substr(1));  // drop the ';' checked above
  if (!params.empty()) out.append("; ").append(params);
  return out;
}

// Fills `part` from its Content-Disposition value.
Status apply_disposition(std::string_view value, std::size_t number, MultipartPart& part) {
  std::size_t pos = 0;
  const std::string_view type = take_token(value, pos);
  if (!ascii_iequals(type, "form-data")) {
    return Error::bad_request(part_label(number) + " has Content-Disposition \"" +
                              std::string(type) + "\" instead of form-data");
  }
  constexpr std::array<std::string_view, 3> kWanted = {"name", "filename", "filename*"};
  auto params = parse_parameters(value.substr(pos), kWanted);
  if (!params) {
    return Error::bad_request(part_label(number) +
                              " has a malformed Content-Disposition: " + params.error().message);
  }
  auto& [name, filename, filename_ext] = *params;
  if (!name) return Error::bad_request(part_label(number) + " has no Content-Disposition name");
  part.name = std::move(*name);
  if (filename_ext) {
    part.filename = decode_ext_value(*filename_ext);
    if (!part.filename) {
      return Error::bad_request(part_label(number) +
                                " has a filename* that is not UTF-8''percent-encoded text");
    }
  } else {
    part.filename = std::move(filename);
  }
  return {};
}

// Parses a part's header block: lines each ending in `nl`.
Status parse_part_headers(std::string_view block, std::string_view nl, std::size_t number,
                          MultipartPart& part) {
  bool seen_disposition = false;
  bool seen_content_type = false;
  std::size_t pos = 0;
  while (pos < block.size()) {
    const std::size_t end = block.find(nl, pos);
    const std::string_view line =
        block.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? block.size() : end + nl.size();
    for (char c : line) {
      if (is_control(c)) {
        return Error::bad_request(part_label(number) + " has a control character in its headers");
      }
    }
    // Checked before the line is used, so a folded Content-Disposition is
    // reported as folded rather than as missing its continuation.
    if ((!line.empty() && is_ows(line.front())) || (pos < block.size() && is_ows(block[pos]))) {
      return Error::bad_request(part_label(number) + " has a folded header line");
    }
    std::size_t colon = 0;
    const std::string_view name = take_token(line, colon);
    if (name.empty() || colon >= line.size() || line[colon] != ':') {
      return Error::bad_request(part_label(number) + " has a malformed header line");
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (ascii_iequals(name, "content-disposition")) {
      if (std::exchange(seen_disposition, true)) {
        return Error::bad_request(part_label(number) + " has two Content-Disposition headers");
      }
      if (auto s = apply_disposition(value, number, part); !s) return s;
    } else if (ascii_iequals(name, "content-type")) {
      if (std::exchange(seen_content_type, true)) {
        return Error::bad_request(part_label(number) + " has two Content-Type headers");
      }
      auto type = normalize_content_type(value, number);
      if (!type) return std::move(type).take_error();
      part.content_type = std::move(*type);
    }
  }
  if (!seen_disposition) {
    return Error::bad_request(part_label(number) + " has no Content-Disposition header");
  }
  return {};
}

// Splits one part (the bytes between two delimiters) into headers and body.
Result<MultipartPart> parse_part(std::string_view extent, std::string_view nl, std::size_t number,
                                 const MultipartLimits& limits) {
  std::string_view headers;
  std::string_view data;
  const std::string blank = std::string(nl) + std::string(nl);
  const std::size_t end = extent.substr(0, limits.max_part_header_bytes).find(blank);
  if (extent.starts_with(nl)) {  // no headers at all
    data = extent.substr(nl.size());
  } else if (end != std::string_view::npos) {
    headers = extent.substr(0, end + nl.size());
    data = extent.substr(end + blank.size());
  } else if (extent.size() > limits.max_part_header_bytes) {
    return Error::too_large(part_label(number) + " has headers over the " +
                            std::to_string(limits.max_part_header_bytes) + "-byte limit");
  } else if (extent.empty() || extent.ends_with(nl)) {
    headers = extent;  // RFC 2046 allows a part of headers only; its body is empty
  } else {
    return Error::bad_request(part_label(number) + " has no blank line after its headers");
  }
  if (data.size() > limits.max_part_bytes) {
    return Error::too_large(part_label(number) + " is over the " +
                            std::to_string(limits.max_part_bytes) + "-byte limit");
  }
  MultipartPart part;
  if (auto s = parse_part_headers(headers, nl, number, part); !s) return std::move(s).take_error();
  part.data = data;
  return part;
}

using Searcher = std::boyer_moore_horspool_searcher<std::string::const_iterator>;

std::size_t find_from(const Searcher& searcher, std::string_view body, std::size_t from) {
  const auto hit = searcher(body.begin() + static_cast<std::ptrdiff_t>(from), body.end()).first;
  return hit == body.end() ? std::string_view::npos : static_cast<std::size_t>(hit - body.begin());
}

// What follows a `--boundary` match that ends at `pos`.
struct DelimiterTail {
  enum Kind { kData, kNextPart, kClose } kind = kData;  // kData: the match was part data
  std::size_t next = 0;                                 // where the next part starts
  std::string_view nl;                                  // the line break found
};

// `nl` is the body's line break, or empty while it is still unknown (after
// the first delimiter), in which case CRLF and LF are both accepted.
DelimiterTail classify_tail(std::string_view body, std::size_t pos, std::string_view nl) {
  if (body.substr(pos).starts_with("--")) return {DelimiterTail::kClose, pos + 2, nl};
  while (pos < body.size() && is_ows(body[pos])) ++pos;
  for (std::string_view candidate : {std::string_view("\r\n"), std::string_view("\n")}) {
    if ((nl.empty() || nl == candidate) && body.substr(pos).starts_with(candidate)) {
      return {DelimiterTail::kNextPart, pos + candidate.size(), candidate};
    }
  }
  return {};
}

Result<std::vector<MultipartPart>> parse_body(std::string_view body, std::string_view boundary,
                                              const MultipartLimits& limits) {
  if (auto s = validate_boundary(boundary); !s) return std::move(s).take_error();
  const std::string dash_boundary = "--" + std::string(boundary);

  // The first delimiter starts the body or a line; whatever precedes it is
  // preamble. The line break after it sets CRLF or LF mode.
  DelimiterTail tail;
  if (body.starts_with(dash_boundary)) tail = classify_tail(body, dash_boundary.size(), {});
  const std::string line_start = "\n" + dash_boundary;
  const Searcher preamble_searcher(line_start.begin(), line_start.end());
  for (std::size_t from = 0; tail.kind == DelimiterTail::kData;) {
    const std::size_t hit = find_from(preamble_searcher, body, from);
    if (hit == std::string_view::npos) {
      return Error::bad_request("multipart body does not contain its boundary");
    }
    tail = classify_tail(body, hit + line_start.size(), {});
    from = hit + 1;
  }

  std::vector<MultipartPart> parts;
  if (tail.kind == DelimiterTail::kClose) return parts;  // an empty form
  const std::string_view nl = tail.nl;
  const std::string delimiter = std::string(nl) + dash_boundary;
  const Searcher searcher(delimiter.begin(), delimiter.end());
  std::size_t part_start = tail.next;
  while (true) {
    if (parts.size() == limits.max_parts) {
      return Error::too_large("multipart body has more than the limit of " +
                              std::to_string(limits.max_parts) + " parts");
    }
    // Each search resumes past the last match, so the whole loop reads every
    // byte a bounded number of times.
    std::size_t end = part_start;
    for (std::size_t from = part_start;; from = end + 1) {
      end = find_from(searcher, body, from);
      if (end == std::string_view::npos) {
        return Error::bad_request(
            "multipart body is truncated: the closing --boundary-- delimiter is missing");
      }
      tail = classify_tail(body, end + delimiter.size(), nl);
      if (tail.kind != DelimiterTail::kData) break;
    }
    auto part = parse_part(body.substr(part_start, end - part_start), nl, parts.size() + 1, limits);
    if (!part) return std::move(part).take_error();
    parts.push_back(std::move(*part));
    if (tail.kind == DelimiterTail::kClose) return parts;
    part_start = tail.next;
  }
}

}  // namespace

std::string_view MultipartPart::media_type() const {
  const std::string_view type = content_type;
  return type.substr(0, type.find(';'));
}

Result<std::string> multipart_boundary(std::string_view content_type) try {
  const std::string_view value = trim_ows(content_type);
  std::size_t pos = 0;
  const auto media = take_media_type(value, pos);
  if (!media || !ascii_iequals(media->first, "multipart") ||
      !ascii_iequals(media->second, "form-data")) {
    return Error::bad_request("Content-Type must be multipart/form-data");
  }
  constexpr std::array<std::string_view, 1> kWanted = {"boundary"};
  auto params = parse_parameters(value.substr(pos), kWanted);
  if (!params) {
    return Error::bad_request("multipart/form-data Content-Type is malformed: " +
                              params.error().message);
  }
  auto& boundary = (*params)[0];
  if (!boundary) return Error::bad_request("multipart/form-data Content-Type has no boundary");
  if (auto s = validate_boundary(*boundary); !s) return std::move(s).take_error();
  return std::move(*boundary);
} catch (const std::bad_alloc&) {
  return Error::internal("the server ran out of memory reading the Content-Type");
}

Result<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                   const MultipartLimits& limits) try {
  return parse_body(body, boundary, limits);
} catch (const std::bad_alloc&) {
  // Allocation is the only thing here that can throw; report it rather than
  // unwind through the caller's connection loop.
  return Error::internal("the server ran out of memory reading the upload");
}

const MultipartPart* find_part(const std::vector<MultipartPart>& parts, std::string_view name) {
  for (const MultipartPart& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

}  // namespace scribepod::http
