// StaticFiles: serves the built web page from one directory.
//
// Paths are percent-decoded and refused when they contain "..", ".", a
// hidden segment, a backslash or NUL, and the resolved file must still lie
// under the root after symlinks are followed, so nothing outside it can be
// read. Responses carry the MIME type for the extension, an ETag, and
// Cache-Control: content-hashed files under assets/ are immutable for a
// year; everything else (index.html) is revalidated on each load.
#pragma once

#include <filesystem>

#include "core/result.h"
#include "http/message.h"

namespace scribepod::http {

// MIME type for a file extension including the dot (".js"); a generic
// binary type when unknown.
std::string_view mime_type_for(std::string_view extension);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  bool available() const { return !root_.empty(); }
  // `relative` is the decoded path below the root ("" or "/" means index.html).
  Result<Response> serve(const Request& req, std::string_view relative) const;

 private:
  std::filesystem::path root_;  // canonical; empty when the directory is missing
};

}  // namespace scribepod::http
