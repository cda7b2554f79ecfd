#include "http/static_files.h"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <sstream>
#include <utility>

namespace scribepod::http {

std::string_view mime_type_for(std::string_view ext) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".wav", "audio/wav"},
      {".webmanifest", "application/manifest+json"},
      {".xml", "application/xml"},
  }};
  for (const auto& [e, type] : kTypes) {
    if (e.size() == ext.size() && strncasecmp(e.data(), ext.data(), e.size()) == 0) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::filesystem::path root) {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  if (!ec && std::filesystem::is_directory(canonical, ec)) root_ = std::move(canonical);
}

namespace {
bool safe_relative(std::string_view rel) {
  if (rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos) {
    return false;
  }
  std::size_t i = 0;
  while (i <= rel.size()) {
    const std::size_t j = std::min(rel.find('/', i), rel.size());
    const std::string_view seg = rel.substr(i, j - i);
    if (!seg.empty() && seg.front() == '.') return false;  // "..", "." and hidden files
    i = j + 1;
  }
  return true;
}
}  // namespace

Result<Response> StaticFiles::serve(const Request& req, std::string_view relative) const {
  if (root_.empty()) return Error::not_found("the web page is not built");
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  if (relative.empty()) relative = "index.html";
  if (!safe_relative(relative)) return Error::not_found("no such file");

  std::error_code ec;
  const auto path = std::filesystem::weakly_canonical(root_ / std::filesystem::path(relative), ec);
  const auto& root = root_.native();
  if (ec || path.native().compare(0, root.size(), root) != 0 ||
      (path.native().size() > root.size() && path.native()[root.size()] != '/')) {
    return Error::not_found("no such file");
  }
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::is_regular_file(status)) return Error::not_found("no such file");
  const auto size = std::filesystem::file_size(path, ec);
  const auto mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return Error::not_found("no such file");

  const std::string etag = fmt::format("\"{:x}-{:x}\"", size, mtime.time_since_epoch().count());
  const bool immutable = relative.rfind("assets/", 0) == 0;

  Response res{StatusCode::ok, req.version()};
  res.keep_alive(req.keep_alive());
  res.set(beast_http::field::etag, etag);
  res.set(beast_http::field::cache_control,
          immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  const auto inm = req.find(beast_http::field::if_none_match);
  if (inm != req.end() && inm->value() == etag) {
    res.result(StatusCode::not_modified);
    return res;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::not_found("no such file");
  std::ostringstream buf;
  buf << in.rdbuf();
  res.set(beast_http::field::content_type, mime_type_for(path.extension().native()));
  res.body() = std::move(buf).str();
  res.prepare_payload();
  return res;
}

}  // namespace scribepod::http
