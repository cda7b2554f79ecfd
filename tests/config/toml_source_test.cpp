#include "config/toml_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "test_support.h"

namespace scribepod::config {
namespace {

using namespace scribepod::config::test_support;  // NOLINT: test helpers
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---------------------------------------------------------------------------
// TOML specifics

TEST(TomlSource, PassesEachSettingWithItsLocation) {
  std::vector<std::pair<std::string, std::string>> seen;
  const Status status = apply_toml_text(
      "data_dir = \"d\"\n[server]\nport = 1\nhost = \"h\"\n", "f.toml",
      [&](const KeySpec& key, const Value& value, std::string source) {
        seen.emplace_back(std::string(key.key) + "=" + format_value(key, value), source);
      });
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"data_dir=d", "config file f.toml:1:12"},
                      {"server.host=h", "config file f.toml:4:8"},
                      {"server.port=1", "config file f.toml:3:8"},
                  }));
}

TEST(TomlSource, StopsAtTheFirstError) {
  int calls = 0;
  const Status status = apply_toml_text(
      "[server]\nport = 70000\n", "f", [&](const KeySpec&, const Value&, std::string) { ++calls; });
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(calls, 0);
}

TEST(Toml, TypedValues) {
  const Config c = ok(load_from_toml_text(R"(
data_dir = "/var/lib/scribepod"

[server]
host = "0.0.0.0"
port = 8080
threads = 4
max_body_bytes = "25MiB"
max_header_bytes = 32768
read_timeout = "5s"
idle_timeout = 2500        # bare integer: milliseconds
allow_unauthenticated = true
environment = "production"

[cors]
allowed_origins = ["http://localhost:3000", "https://app.example.com"]
max_age = 120              # bare integer: seconds

[auth]
api_keys = ["k1", "k2"]

[rate_limit]
per_client_rps = 10        # an integer is fine for a number
per_client_burst = 12.5

[log]
level = "debug"
format = "text"
)"));
  EXPECT_EQ(c.data_dir, "/var/lib/scribepod");
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.threads, 4);
  EXPECT_EQ(c.server.max_body_bytes, 25u * 1024 * 1024);
  EXPECT_EQ(c.server.max_header_bytes, 32768u);
  EXPECT_EQ(c.server.read_timeout, milliseconds(5000));
  EXPECT_EQ(c.server.idle_timeout, milliseconds(2500));
  EXPECT_TRUE(c.server.allow_unauthenticated);
  EXPECT_EQ(c.server.environment, "production");
  EXPECT_EQ(c.cors.allowed_origins,
            (std::vector<std::string>{"http://localhost:3000", "https://app.example.com"}));
  EXPECT_EQ(c.cors.max_age, seconds(120));
  EXPECT_EQ(c.auth.api_keys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_DOUBLE_EQ(c.rate_limit.per_client_rps, 10.0);
  EXPECT_DOUBLE_EQ(c.rate_limit.per_client_burst, 12.5);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "text");
}

TEST(Toml, DottedKeysAndInlineTablesWork) {
  const Config c = ok(load_from_toml_text("server.port = 9000\nlog = { level = \"error\" }\n"));
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.log.level, "error");
}

TEST(Toml, EmptyDocumentGivesDefaults) {
  const Config c = ok(load_from_toml_text(""));
  EXPECT_EQ(to_redacted_json(c), to_redacted_json(Config{}));
  EXPECT_TRUE(load_from_toml_text("# nothing\n[server]\n").ok());
}

TEST(Toml, UnknownKeyIsAnErrorNamingIt) {
  EXPECT_EQ(error_of(load_from_toml_text("[server]\nport = 1\nprot = 2\n", "my.toml")),
            "unknown setting \"server.prot\" in config file my.toml:3:1; did you mean "
            "\"server.port\"?");
  EXPECT_EQ(error_of(load_from_toml_text("[serevr]\nport = 1\n", "my.toml")),
            "unknown setting \"serevr\" in config file my.toml:1:2; did you mean \"server\"?");
  EXPECT_EQ(error_of(load_from_toml_text("colour = \"red\"\n", "my.toml")),
            "unknown setting \"colour\" in config file my.toml:1:1");
  EXPECT_EQ(error_of(load_from_toml_text("[server.port]\nx = 1\n", "my.toml")),
            "invalid value (a table) for server.port (from config file my.toml:1:1): expected an "
            "integer 0..65535");
}

TEST(Toml, SectionGivenAsValue) {
  EXPECT_EQ(error_of(load_from_toml_text("server = 5\n", "my.toml")),
            "\"server\" is a section, not a value (config file my.toml:1:10); write it as "
            "[server]");
  EXPECT_FALSE(load_from_toml_text("[[server]]\nport = 1\n").ok());
}

TEST(Toml, WrongTypesAreErrors) {
  EXPECT_EQ(error_of(load_from_toml_text("[server]\nport = \"8080\"\n", "f")),
            "invalid value \"8080\" for server.port (from config file f:2:8): expected an integer "
            "0..65535");
  EXPECT_EQ(error_of(load_from_toml_text("[rate_limit]\nenabled = \"yes\"\n", "f")),
            "invalid value \"yes\" for rate_limit.enabled (from config file f:2:11): expected true "
            "or false (also 1/0, yes/no, on/off)");
  EXPECT_FALSE(load_from_toml_text("[rate_limit]\nper_client_rps = true\n").ok());
  EXPECT_FALSE(load_from_toml_text("[rate_limit]\nper_client_rps = nan\n").ok());
  EXPECT_FALSE(load_from_toml_text("[rate_limit]\nper_client_rps = inf\n").ok());
  EXPECT_FALSE(load_from_toml_text("[server]\nthreads = 1.0\n").ok());
  EXPECT_FALSE(load_from_toml_text("[server]\nhost = 1\n").ok());
  EXPECT_FALSE(load_from_toml_text("[server]\nread_timeout = 1.5\n").ok());
  EXPECT_FALSE(load_from_toml_text("[server]\nread_timeout = -5\n").ok());
  EXPECT_FALSE(load_from_toml_text("[server]\nread_timeout = 9223372036854775807\n").ok());
  EXPECT_FALSE(load_from_toml_text("[cors]\nmax_age = 9223372036854775807\n").ok());
  EXPECT_FALSE(load_from_toml_text("[server]\nmax_body_bytes = -1\n").ok());
  EXPECT_FALSE(load_from_toml_text("[cors]\nallowed_origins = \"http://a.example\"\n").ok());
  EXPECT_FALSE(load_from_toml_text("[cors]\nallowed_origins = [\"http://a.example\", 1]\n").ok());
  EXPECT_FALSE(load_from_toml_text("[log]\nlevel = 3\n").ok());
  EXPECT_FALSE(load_from_toml_text("data_dir = 1979-05-27\n").ok());
}

TEST(Toml, ParseErrorHasFileLineAndColumn) {
  const std::string message =
      error_of(load_from_toml_text("[server]\nport = 1\nhost = \"unterminated\n", "bad.toml"));
  EXPECT_EQ(message.rfind("config file bad.toml:3:", 0), 0u) << message;
  EXPECT_FALSE(load_from_toml_text("[server]\nport = 1\nport = 2\n").ok());  // duplicate key
  EXPECT_FALSE(load_from_toml_text("\xff\xfe").ok());
}

// Inputs that hit undefined behaviour in toml++ 3.3 are stopped before it
// (config/toml_guard.h); valid TOML around them still loads.
TEST(Toml, GuardRejectsInputsThatTripToml) {
  EXPECT_EQ(error_of(load_from_toml_text("[(", "f")),
            "config file f:1:2: a table header must start with a key (a name or a quoted string)");
  EXPECT_FALSE(load_from_toml_text("[[[1]]]").ok());
  EXPECT_FALSE(load_from_toml_text("[[=").ok());
  EXPECT_FALSE(load_from_toml_text("  [ +").ok());
  EXPECT_EQ(error_of(load_from_toml_text("[server]\nport\xcc\x8d = 1\n", "f")),
            "config file f:2:5: non-ASCII character outside a string or comment");
  EXPECT_EQ(error_of(load_from_toml_text("a = 1\n\xff", "f")), "config file f:2:1: invalid UTF-8");
  EXPECT_FALSE(load_from_toml_text("x = \"\xc0\xaf\"").ok());          // overlong
  EXPECT_FALSE(load_from_toml_text("x = \"\xed\xa0\x80\"").ok());      // surrogate
  EXPECT_FALSE(load_from_toml_text("x = \"\xf4\x90\x80\x80\"").ok());  // > U+10FFFF
  EXPECT_FALSE(load_from_toml_text("x = \"\xe2\x82\"").ok());          // truncated
  // marzer/tomlplusplus#190: non-ASCII after a line-ending backslash.
  EXPECT_FALSE(load_from_toml_text("data_dir = \"\"\"\\\n\xc2\xa7\"\"\"\n").ok());
  EXPECT_FALSE(load_from_toml_text("data_dir = \"\\\xc2\xa7\"\n").ok());
  // A quote inside a bare token does not start a string for toml++, which
  // would go on scanning the "string" as part of the token.
  EXPECT_EQ(error_of(load_from_toml_text("port = 9x\"\xd2\x92\"\n", "f")),
            "config file f:1:10: unexpected quote");
  EXPECT_FALSE(load_from_toml_text("a = \"x\"\"\xd2\x92\"").ok());
}

TEST(Toml, GuardAcceptsValidNonAsciiAndTrickyStrings) {
  Config c =
      ok(load_from_toml_text("# Configuraci\xc3\xb3n \xe2\x80\x94 \xf0\x9f\x8e\x99\n"
                             "data_dir = \"/srv/caf\xc3\xa9\" # \xc3\xbc\n"
                             "[server]\n"
                             "static_dir = '''/srv/[web] \xc3\xa9'''\n"
                             "host = \"\"\"a\\\n   b\"\"\"\n"
                             "[cors]\n"
                             "allowed_origins = [\n"
                             "  \"http://a.example\",  # [not a header]\n"
                             "  \"http://b.example\",\n"
                             "]\n"
                             "[ \"log\" ]\n"
                             "level = \"debug\"\n"));
  EXPECT_EQ(c.data_dir, "/srv/caf\xc3\xa9");
  EXPECT_EQ(c.server.static_dir, "/srv/[web] \xc3\xa9");
  EXPECT_EQ(c.server.host, "ab");
  EXPECT_EQ(c.cors.allowed_origins,
            (std::vector<std::string>{"http://a.example", "http://b.example"}));
  EXPECT_EQ(c.log.level, "debug");
  c = ok(
      load_from_toml_text("\xEF\xBB\xBF\"data_dir\" = \"\"\"x\"\"\"\"\"\nlog.\"level\"=\"warn\"\n"
                          "[server]\nhost = 'q'\n"
                          "[cors]\nallowed_origins = [\"http://a.example\",\"http://b.example\"]\n"
                          "[rate_limit]\n'enabled'=false\n"));
  EXPECT_EQ(c.data_dir, "x\"\"");
  EXPECT_EQ(c.server.host, "q");
  EXPECT_EQ(c.log.level, "warn");
  EXPECT_EQ(c.cors.allowed_origins.size(), 2u);
  EXPECT_FALSE(c.rate_limit.enabled);
}

TEST(Toml, OversizedDocumentIsRejected) {
  std::string big(2 * 1024 * 1024, '#');
  EXPECT_NE(error_of(load_from_toml_text(big)).find("larger than"), std::string::npos);
}

}  // namespace
}  // namespace scribepod::config
