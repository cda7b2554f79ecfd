// libFuzzer target for the multipart/form-data parser.
//
// Input layout: one flags byte, then a Content-Type header value up to the
// first '\n', then the body. The boundary comes from that header when it is
// valid, else a fixed one, so mutations that break the header still reach the
// body parser. Flags bit 0 picks tiny limits to exercise the limit paths.
//
// Besides the sanitizers, it checks that every part views into the body, the
// limits hold, find_part agrees, and that a successful parse survives a round
// trip: the parts re-encoded in a canonical CRLF body parse back equal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "http/multipart.h"

namespace {

using scribepod::http::MultipartLimits;
using scribepod::http::MultipartPart;

void check(bool condition) {
  if (!condition) std::abort();
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xf]);
  }
  return out;
}

std::string encode(const std::vector<MultipartPart>& parts, std::string_view boundary) {
  std::string body = "preamble\r\n";
  for (const MultipartPart& part : parts) {
    body.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=");
    body.append(quote(part.name));
    if (part.filename) body.append("; filename*=\"UTF-8''" + percent_encode(*part.filename) + "\"");
    body.append("\r\nContent-Type: ").append(part.content_type).append("\r\n\r\n");
    body.append(part.data).append("\r\n");
  }
  return body.append("--").append(boundary).append("--\r\nepilogue");
}

void check_parts(const std::vector<MultipartPart>& parts, std::string_view body,
                 std::string_view boundary, const MultipartLimits& limits) {
  check(parts.size() <= limits.max_parts);
  bool data_may_hold_delimiter = false;
  const std::string line_start = "\n--" + std::string(boundary);
  for (const MultipartPart& part : parts) {
    check(part.data.empty() || (part.data.data() >= body.data() &&
                                part.data.data() + part.data.size() <= body.data() + body.size()));
    check(part.data.size() <= limits.max_part_bytes);
    check(!part.media_type().empty() && part.content_type.starts_with(part.media_type()));
    const MultipartPart* found = scribepod::http::find_part(parts, part.name);
    check(found != nullptr && found <= &part && found->name == part.name);
    // An LF-mode body may carry "\r\n--boundary" in its data, which the
    // canonical CRLF encoding would split; so may data that starts with
    // "--boundary" (the encoding puts a CRLF before the data's first byte).
    // Skip the round trip then.
    data_may_hold_delimiter = data_may_hold_delimiter ||
                              part.data.find(line_start) != std::string::npos ||
                              part.data.starts_with(line_start.substr(1));
  }
  if (data_may_hold_delimiter) return;

  const std::string again = encode(parts, boundary);
  constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
  auto reparsed = scribepod::http::parse_multipart(again, boundary, {kNoLimit, kNoLimit, kNoLimit});
  check(reparsed.ok());
  check(reparsed->size() == parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const MultipartPart& a = parts[i];
    const MultipartPart& b = (*reparsed)[i];
    check(a.name == b.name && a.filename == b.filename && a.content_type == b.content_type &&
          a.data == b.data);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool tiny = (input[0] & 1) != 0;
  std::string_view rest = input.substr(1);
  const std::size_t newline = rest.find('\n');
  const std::string_view header = rest.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);

  MultipartLimits limits;
  if (tiny) limits = {2, 64, 64};

  auto boundary = scribepod::http::multipart_boundary(header);
  const std::string chosen = boundary.ok() ? *boundary : std::string("bnd");
  auto parts = scribepod::http::parse_multipart(body, chosen, limits);
  if (parts.ok()) check_parts(*parts, body, chosen, limits);

  // The raw header as a boundary exercises boundary validation.
  (void)scribepod::http::parse_multipart(body, header, limits);
  return 0;
}
