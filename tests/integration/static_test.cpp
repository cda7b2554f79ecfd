// Static files for the web page: content types, caching, ETag/304, HEAD,
// and no way out of server.static_dir.
#include <gtest/gtest.h>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

const std::string kIndex =
    "<!doctype html><title>Scribepod</title><script src=/assets/app-abc123.js></script>\n";
const std::string kScript = "console.log('scribepod');\n";
const std::string kIcon("\x00\x00\x01\x00\x01\x00\x10\x10\xff\xfe", 10);  // binary, with NULs
const std::string kStyle = "body{margin:0}\n";
const std::string kSecret = "TOP-SECRET-OUTSIDE-THE-WEB-ROOT";

class StaticTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    dir_->write("web/index.html", kIndex);
    dir_->write("web/assets/app-abc123.js", kScript);
    dir_->write("web/assets/app-def456.css", kStyle);
    dir_->write("web/favicon.ico", kIcon);
    dir_->write("web/.env", "API_KEY=" + kSecret);
    dir_->write("secret", kSecret);
    dir_->write("web-other/secret", kSecret);
    server_ =
        try_serve({"--set", "server.static_dir=" + (dir_->path() / "web").string()}, {}, error_);
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << error_; }
  static std::uint16_t port() { return server_->port(); }

  static void expect_not_found(const std::string& target) {
    HttpConnection conn(port());
    const HttpResponse res = conn.roundtrip(make_request("GET", target));
    EXPECT_TRUE(res.status == 404 || res.status == 400) << target << " gave " << res.status << "\n"
                                                        << res.head_text() << res.body;
    EXPECT_EQ(res.body.find(kSecret), std::string::npos) << target << " leaked a file";
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string error_;
};

TEST_F(StaticTest, RootServesIndexHtml) {
  const HttpResponse res = http_get(port(), "/");
  ASSERT_EQ(res.status, 200u) << res.head_text();
  EXPECT_EQ(res.body, kIndex);
  EXPECT_EQ(res.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res.header("Cache-Control"), "no-cache");
  EXPECT_FALSE(res.header("ETag").empty());
  EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
  const HttpResponse named = http_get(port(), "/index.html");
  EXPECT_EQ(named.status, 200u);
  EXPECT_EQ(named.body, kIndex);
  EXPECT_EQ(named.header("ETag"), res.header("ETag"));
}

TEST_F(StaticTest, HashedAssetsAreImmutable) {
  const HttpResponse js = http_get(port(), "/assets/app-abc123.js");
  ASSERT_EQ(js.status, 200u) << js.head_text();
  EXPECT_EQ(js.body, kScript);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  const std::string cache = js.header("Cache-Control");
  EXPECT_NE(cache.find("immutable"), std::string::npos) << cache;
  EXPECT_NE(cache.find("max-age=31536000"), std::string::npos) << cache;
  const HttpResponse css = http_get(port(), "/assets/app-def456.css");
  ASSERT_EQ(css.status, 200u);
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.body, kStyle);
}

TEST_F(StaticTest, TopLevelFilesAreServedBytewise) {
  const HttpResponse res = http_get(port(), "/favicon.ico");
  ASSERT_EQ(res.status, 200u) << res.head_text();
  EXPECT_EQ(res.header("Content-Type"), "image/x-icon");
  EXPECT_EQ(res.header("Content-Length"), std::to_string(kIcon.size()));
  EXPECT_EQ(res.body, kIcon);
  EXPECT_EQ(res.header("Cache-Control"), "no-cache");
}

TEST_F(StaticTest, MatchingIfNoneMatchGives304) {
  HttpConnection conn(port());
  for (const char* target : {"/", "/assets/app-abc123.js"}) {
    const HttpResponse first = conn.roundtrip(make_request("GET", target));
    const std::string etag = first.header("ETag");
    ASSERT_FALSE(etag.empty()) << target;
    const HttpResponse again =
        conn.roundtrip(make_request("GET", target, {{"If-None-Match", etag}}));
    EXPECT_EQ(again.status, 304u) << target << "\n" << again.head_text();
    EXPECT_EQ(again.body, "");
    EXPECT_EQ(again.header("ETag"), etag);
    EXPECT_EQ(again.header("Cache-Control"), first.header("Cache-Control"));
    const HttpResponse other =
        conn.roundtrip(make_request("GET", target, {{"If-None-Match", "\"not-the-etag\""}}));
    EXPECT_EQ(other.status, 200u) << target;
    EXPECT_FALSE(other.body.empty());
  }
}

TEST_F(StaticTest, HeadGivesHeadersWithoutBody) {
  HttpConnection conn(port());
  const HttpResponse head = conn.roundtrip(make_request("HEAD", "/"), /*head_request=*/true);
  ASSERT_EQ(head.status, 200u) << head.head_text();
  EXPECT_EQ(head.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(head.header("Content-Length"), std::to_string(kIndex.size()));
  EXPECT_FALSE(head.header("ETag").empty());
  // A stray body would be read as the next response's status line.
  const HttpResponse next = conn.roundtrip(make_request("GET", "/assets/app-abc123.js"));
  EXPECT_EQ(next.status, 200u) << next.head_text();
  EXPECT_EQ(next.body, kScript);
}

TEST_F(StaticTest, TraversalIsRefused) {
  for (const char* target :
       {"/assets/../secret", "/assets/../../secret", "/assets/%2e%2e/%2e%2e/secret",
        "/assets/%2E%2E/%2E%2E/secret", "/assets/..%2f..%2fsecret",
        "/assets/%2e%2e%2f%2e%2e%2fsecret", "/../secret", "/%2e%2e/secret",
        "/assets/..%5c..%5csecret", "/assets//../../secret",
        "/assets/%2e%2e/%2e%2e/web-other/secret", "/assets/%00../../secret"}) {
    expect_not_found(target);
  }
}

TEST_F(StaticTest, HiddenAndMissingFilesAre404) {
  for (const char* target : {"/.env", "/assets/.env", "/assets/%2eenv", "/assets/missing.js",
                             "/missing.html", "/assets/"}) {
    expect_not_found(target);
  }
  EXPECT_TRUE(IsJsonError(http_get(port(), "/assets/missing.js"), 404, "not_found"));
}

TEST_F(StaticTest, StaticRoutesAreGetOnly) {
  const HttpResponse res = http_post(port(), "/", "x");
  EXPECT_TRUE(IsJsonError(res, 405, "method_not_allowed"));
  EXPECT_NE(res.header("Allow").find("GET"), std::string::npos) << res.head_text();
}

TEST_F(StaticTest, ApiRoutesStillWin) {
  EXPECT_EQ(http_get(port(), "/health").json().value("status", ""), "ok");
}

}  // namespace
}  // namespace scribepod::testing
