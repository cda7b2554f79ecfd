// Parser for multipart/form-data request bodies (RFC 7578, with the framing
// of RFC 2046), used for audio uploads. It works on a body that is already
// fully in memory and never copies part data: every MultipartPart::data is a
// view into that body, which must outlive the parts.
//
// Framing. A body is an ignored preamble, then parts each introduced by a
// delimiter line `--boundary`, then a closing `--boundary--` and an ignored
// epilogue. Spaces and tabs after a delimiter (RFC 2046 transport padding)
// are allowed. The boundary text inside part data ends the part only when it
// forms a whole delimiter: a line break, `--boundary`, then a line break or
// `--`. Anything else, such as `--boundary` after a bare LF in a CRLF body or
// `--boundaryX`, stays data. A body holding only the closing delimiter is an
// empty form (what a browser sends for an empty FormData) and yields no parts.
//
// Line endings. RFC 2046 requires CRLF. Some scripts send bare LF, so the
// line break after the first delimiter picks the mode for the whole body:
// CRLF or LF, never a mix. A CRLF body's binary data may therefore contain
// "\n--boundary" safely.
//
// Part headers. Names are case-insensitive. Each part needs
// `Content-Disposition: form-data; name=...`; parameter values may be tokens
// or quoted strings with backslash escapes. Repeated Content-Disposition or
// Content-Type headers, folded header lines and control characters are
// rejected, since two readers could disagree on them. Other headers,
// including Content-Transfer-Encoding (deprecated by RFC 7578), are ignored.
//
// Errors. Malformed input gives kBadRequest; a part count, a part's headers
// or a part's body over MultipartLimits gives kPayloadTooLarge naming the
// limit. Messages are for the client ("multipart part 2 has no
// Content-Disposition name"; parts count from 1).
//
// Cost. Time is linear in the body (one forward Boyer-Moore-Horspool scan;
// the pattern is at most 74 bytes). Nothing is read out of bounds and no
// exception escapes: an allocation failure is reported as kInternal.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::http {

struct MultipartLimits {
  std::size_t max_parts = 32;
  std::size_t max_part_header_bytes = 8 * 1024;   // one part's header block, line breaks included
  std::size_t max_part_bytes = 10 * 1024 * 1024;  // one part's body
};

struct MultipartPart {
  // Content-Disposition's name parameter: the form field name. May be empty.
  std::string name;
  // The filename parameter, or filename* (RFC 8187, UTF-8 or ISO-8859-1,
  // decoded to UTF-8) when present, which wins. Absent for plain fields;
  // empty when a browser sends a file input with no file chosen. These are
  // the client's bytes: they may contain slashes or invalid UTF-8, so never
  // use them as a path. Browsers' %22 escapes of '"' are not undone.
  std::optional<std::string> filename;
  // The part's Content-Type with the media type lowercased and parameters
  // kept as sent after "; ", e.g. "audio/ogg; codecs=opus". RFC 7578's
  // default "text/plain" when the part has none.
  std::string content_type = "text/plain";
  // The part's body, a view into the parsed body.
  std::string_view data;

  // The media type alone: "audio/ogg" for "audio/ogg; codecs=opus".
  std::string_view media_type() const;
};

// The boundary parameter of a Content-Type header value such as
// `multipart/form-data; boundary="abc"`. kBadRequest when the media type is
// not multipart/form-data, or the boundary is missing or not RFC 2046 valid
// (1 to 70 characters from its set, not ending in a space).
Result<std::string> multipart_boundary(std::string_view content_type);

// Parses a whole multipart/form-data body framed by `boundary` (as returned by
// multipart_boundary; an invalid one is rejected with kBadRequest). Parts are
// in body order and view into `body`.
Result<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                   const MultipartLimits& limits = {});

// The first part named `name` (compared exactly), or nullptr.
const MultipartPart* find_part(const std::vector<MultipartPart>& parts, std::string_view name);

}  // namespace scribepod::http
