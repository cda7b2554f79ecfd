// The web page: GET / (index.html), /assets/... (content-hashed bundles) and
// each file at the top of the page's directory (favicon, worklet). Public.
// Files are looked up per request, so a rebuilt page is served at once.
#pragma once

#include <memory>

#include "http/router.h"
#include "http/static_files.h"

namespace scribepod::api {

// Registers nothing when the directory does not exist, so / answers 404.
void add_web_routes(http::Router& router, std::shared_ptr<const http::StaticFiles> files,
                    const std::string& root);

}  // namespace scribepod::api
