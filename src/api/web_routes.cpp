#include "api/web_routes.h"

#include <filesystem>

namespace scribepod::api {

void add_web_routes(http::Router& router, std::shared_ptr<const http::StaticFiles> files,
                    const std::string& root) {
  if (!files->available()) return;
  const http::RouteOptions page{.public_route = true};
  auto serve = [files](std::string_view rel) {
    return [files, rel = std::string(rel)](
               http::Request& req,
               http::Context& ctx) -> boost::asio::awaitable<Result<http::Response>> {
      (void)ctx;
      co_return files->serve(req, rel);
    };
  };
  router.add(http::Verb::get, "/", serve("index.html"), page);
  router.add(
      http::Verb::get, "/assets/{path...}",
      [files](http::Request& req,
              http::Context& ctx) -> boost::asio::awaitable<Result<http::Response>> {
        co_return files->serve(req, "assets/" + std::string(ctx.param("path")));
      },
      page);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || name.empty() || name.front() == '.') continue;
    router.add(http::Verb::get, "/" + name, serve(name), page);
  }
}

}  // namespace scribepod::api
