#include "http/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace scribepod::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("scribepod-static-" + std::to_string(::getpid()));
    root_ = base_ / "web";
    fs::create_directories(root_ / "assets");
    write(root_ / "index.html", "<!doctype html><title>x</title>");
    write(root_ / "assets" / "app-1a2b.js", "console.log(1)");
    write(root_ / ".env", "API_KEY=secret");
    write(base_ / "secret.txt", "outside");
    fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void write(const fs::path& p, std::string_view text) { std::ofstream(p) << text; }

  Result<Response> get(std::string_view rel, std::string etag = "") {
    Request req{Verb::get, "/", 11};
    if (!etag.empty()) req.set(beast_http::field::if_none_match, etag);
    return StaticFiles(root_).serve(req, rel);
  }

  fs::path base_, root_;
};

TEST_F(StaticFilesTest, ServesIndexWithTypeAndRevalidation) {
  auto res = get("/");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->result(), StatusCode::ok);
  EXPECT_EQ((*res)[beast_http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ((*res)[beast_http::field::cache_control], "no-cache");
  EXPECT_EQ(res->body(), "<!doctype html><title>x</title>");
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutable) {
  auto res = get("assets/app-1a2b.js");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ((*res)[beast_http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_NE((*res)[beast_http::field::cache_control].find("immutable"), std::string_view::npos);
}

TEST_F(StaticFilesTest, EtagGives304) {
  auto first = get("index.html");
  ASSERT_TRUE(first.ok());
  const std::string etag{(*first)[beast_http::field::etag]};
  ASSERT_FALSE(etag.empty());
  auto second = get("index.html", etag);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->result(), StatusCode::not_modified);
  EXPECT_TRUE(second->body().empty());
}

TEST_F(StaticFilesTest, RefusesTraversalHiddenFilesAndSymlinkEscapes) {
  for (const char* bad : {"../secret.txt", "assets/../../secret.txt", ".env",
                          "assets/./app-1a2b.js", "link.txt", "a\\b", "missing.html", "assets"}) {
    auto res = get(bad);
    ASSERT_FALSE(res.ok()) << bad;
    EXPECT_EQ(res.error().code, ErrorCode::kNotFound) << bad;
  }
}

TEST_F(StaticFilesTest, MissingRootIsUnavailable) {
  StaticFiles none(base_ / "does-not-exist");
  EXPECT_FALSE(none.available());
  Request req{Verb::get, "/", 11};
  EXPECT_EQ(none.serve(req, "index.html").error().code, ErrorCode::kNotFound);
}

TEST(MimeTypeTest, KnownAndUnknownExtensions) {
  EXPECT_EQ(mime_type_for(".css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type_for(".SVG"), "image/svg+xml");
  EXPECT_EQ(mime_type_for(".wasm"), "application/wasm");
  EXPECT_EQ(mime_type_for(".exe"), "application/octet-stream");
  EXPECT_EQ(mime_type_for(""), "application/octet-stream");
}

}  // namespace
}  // namespace scribepod::http
