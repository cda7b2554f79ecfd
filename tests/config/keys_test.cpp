#include "config/keys.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/config.h"
#include "test_support.h"

namespace scribepod::config {
namespace {

using namespace scribepod::config::test_support;  // NOLINT: test helpers
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---------------------------------------------------------------------------
// The key table

TEST(KeyTable, KeysAndVariablesAreUnique) {
  std::set<std::string_view> keys;
  std::set<std::string_view> vars;
  for (const KeySpec& s : key_table()) {
    EXPECT_TRUE(keys.insert(s.key).second) << s.key;
    for (std::string_view v : s.env) EXPECT_TRUE(vars.insert(v).second) << v;
  }
  EXPECT_GE(key_table().size(), 29u);
}

TEST(KeyTable, FirstVariableIsThePrimaryScribepodName) {
  for (const KeySpec& s : key_table()) {
    ASSERT_FALSE(s.env.empty()) << s.key;
    EXPECT_EQ(s.env[0], primary_env_var(s.key));
    EXPECT_FALSE(s.doc.empty()) << s.key;
    EXPECT_NE(s.set, nullptr);
    EXPECT_NE(s.get, nullptr);
  }
  EXPECT_EQ(primary_env_var("server.port"), "SCRIBEPOD_SERVER_PORT");
  EXPECT_EQ(primary_env_var("rate_limit.per_client_rps"), "SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS");
  EXPECT_EQ(primary_env_var("data_dir"), "SCRIBEPOD_DATA_DIR");
}

TEST(KeyTable, TheGuidesVariablesAreAliases) {
  const std::map<std::string_view, std::string_view> aliases = {
      {"CORS_ALLOWED_ORIGINS", "cors.allowed_origins"},
      {"API_KEY", "auth.api_keys"},
      {"API_KEYS_FILE", "auth.api_keys_file"},
      {"ADMIN_API_KEY", "auth.admin_key"},
      {"LOG_LEVEL", "log.level"},
      {"REASON_SERVER_HOST", "server.host"},
      {"HOST", "server.host"},
      {"REASON_SERVER_PORT", "server.port"},
      {"PORT", "server.port"},
      {"NODE_ENV", "server.environment"},
      {"SCRIBEPOD_ENV", "server.environment"},
      {"LOG_DIR", "log.dir"},
      {"DATA_DIR", "data_dir"},
  };
  for (const auto& [var, key] : aliases) {
    const KeySpec& s = spec(key);
    EXPECT_NE(std::find(s.env.begin(), s.env.end(), var), s.env.end()) << var;
  }
}

TEST(KeyTable, OnlyKeysAreSecret) {
  std::set<std::string_view> secrets;
  for (const KeySpec& s : key_table()) {
    if (s.secret) secrets.insert(s.key);
  }
  EXPECT_EQ(secrets,
            (std::set<std::string_view>{"auth.api_keys", "auth.admin_key", "asr.remote_api_key",
                                        "llm.remote_api_key", "store.postgres_url"}));
}

TEST(KeyTable, DefaultsAreValidAndRoundTripThroughText) {
  const Config defaults;
  for (const KeySpec& s : key_table()) {
    const Value value = s.get(defaults);
    EXPECT_TRUE(check_value(s, value).ok()) << s.key;
    const std::string text = format_value(s, value);
    auto reparsed = parse_value(s, text);
    ASSERT_TRUE(reparsed.ok()) << s.key << " = " << text << ": " << reparsed.error().message;
    EXPECT_EQ(*reparsed, value) << s.key << " = " << text;
  }
}

TEST(KeyTable, SetterAndGetterAgreeForEveryKey) {
  for (const KeySpec& s : key_table()) {
    auto value = parse_value(s, sample_text(s));
    ASSERT_TRUE(value.ok()) << s.key << ": " << value.error().message;
    Config c;
    EXPECT_NE(s.get(c), *value) << s.key << ": the sample must differ from the default";
    s.set(c, *value);
    EXPECT_EQ(s.get(c), *value) << s.key;
  }
}

TEST(KeyTable, DefaultsMatchTheDocumentedOnes) {
  const Config c;
  EXPECT_EQ(c.server.port, 4200);
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.log.max_file_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.log.max_files, 5u);
}

TEST(KeyTable, SuggestsNearbyKeys) {
  EXPECT_EQ(suggest_key("server.prot"), "server.port");
  EXPECT_EQ(suggest_key("SERVER.PORT"), "server.port");
  EXPECT_EQ(suggest_key("log.levle"), "log.level");
  EXPECT_EQ(suggest_key("serevr"), "server");
  EXPECT_EQ(suggest_key("completely.different"), "");
  EXPECT_EQ(suggest_key(std::string(1000, 'x')), "");
}

// ---------------------------------------------------------------------------
// Type parsers

TEST(Parsers, Bool) {
  for (const char* t : {"true", "TRUE", "True", "1", "yes", "YES", "on", " on "}) {
    auto r = parse_bool(t);
    ASSERT_TRUE(r.ok()) << t;
    EXPECT_TRUE(*r) << t;
  }
  for (const char* t : {"false", "FALSE", "0", "no", "off", "Off"}) {
    auto r = parse_bool(t);
    ASSERT_TRUE(r.ok()) << t;
    EXPECT_FALSE(*r) << t;
  }
  for (const char* t : {"", "2", "truee", "y", "n", "enabled", "t"}) {
    EXPECT_FALSE(parse_bool(t).ok()) << t;
  }
}

TEST(Parsers, Integer) {
  EXPECT_EQ(*parse_integer("0"), 0);
  EXPECT_EQ(*parse_integer("42"), 42);
  EXPECT_EQ(*parse_integer(" +42 "), 42);
  EXPECT_EQ(*parse_integer("-7"), -7);
  EXPECT_EQ(*parse_integer("9223372036854775807"), INT64_MAX);
  for (const char* t : {"", " ", "abc", "1.5", "1e3", "12abc", "0x10", "--1", "+", "1 2",
                        "9223372036854775808", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_integer(t).ok()) << t;
  }
}

TEST(Parsers, Double) {
  EXPECT_DOUBLE_EQ(*parse_double("20"), 20.0);
  EXPECT_DOUBLE_EQ(*parse_double("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_double("+2.5"), 2.5);
  EXPECT_DOUBLE_EQ(*parse_double("1e3"), 1000.0);
  EXPECT_DOUBLE_EQ(*parse_double(" -3 "), -3.0);
  for (const char* t : {"", "abc", "nan", "inf", "-inf", "1e999", "1.5x", "1,5", "0x1p3"}) {
    EXPECT_FALSE(parse_double(t).ok()) << t;
  }
}

TEST(Parsers, Duration) {
  const milliseconds ms{1};
  const milliseconds s{1000};
  EXPECT_EQ(*parse_duration("250ms", ms), milliseconds(250));
  EXPECT_EQ(*parse_duration("10s", ms), milliseconds(10'000));
  EXPECT_EQ(*parse_duration("5m", ms), milliseconds(300'000));
  EXPECT_EQ(*parse_duration("1h", ms), milliseconds(3'600'000));
  EXPECT_EQ(*parse_duration("1500", ms), milliseconds(1500));
  EXPECT_EQ(*parse_duration("90", s), milliseconds(90'000));
  EXPECT_EQ(*parse_duration(" 10 s ", ms), milliseconds(10'000));
  EXPECT_EQ(*parse_duration("10S", ms), milliseconds(10'000));
  EXPECT_EQ(*parse_duration("0", ms), milliseconds(0));
  for (const char* t : {"", "s", "-1s", "+1s", "1.5s", "10x", "10sec", "10 m s", "1d", "ms10",
                        "9999999999999999999", "9999999999999999h"}) {
    EXPECT_FALSE(parse_duration(t, ms).ok()) << t;
  }
  EXPECT_NE(parse_duration("10x", ms).error().message.find("unknown duration unit \"x\""),
            std::string::npos);
}

TEST(Parsers, Size) {
  EXPECT_EQ(*parse_size("512"), 512);
  EXPECT_EQ(*parse_size("512B"), 512);
  EXPECT_EQ(*parse_size("16KiB"), 16 * 1024);
  EXPECT_EQ(*parse_size("16kib"), 16 * 1024);
  EXPECT_EQ(*parse_size("10MB"), 10'000'000);
  EXPECT_EQ(*parse_size("10MiB"), 10 * 1024 * 1024);
  EXPECT_EQ(*parse_size("2KB"), 2000);
  EXPECT_EQ(*parse_size("1GiB"), 1024 * 1024 * 1024);
  EXPECT_EQ(*parse_size("3 GB"), 3'000'000'000);
  for (const char* t :
       {"", "MiB", "-1", "1.5MiB", "10XB", "10 MiB extra", "10M", "10k", "99999999999GiB"}) {
    EXPECT_FALSE(parse_size(t).ok()) << t;
  }
}

TEST(Parsers, List) {
  EXPECT_EQ(split_list("a,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_list(" a , b ,, c, "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_list(""), std::vector<std::string>{});
  EXPECT_EQ(split_list(" , "), std::vector<std::string>{});
  EXPECT_EQ(split_list("single"), std::vector<std::string>{"single"});
}

TEST(Parsers, Formatting) {
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(300'000)), "5m");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_size(10 * 1024 * 1024), "10MiB");
  EXPECT_EQ(format_size(16 * 1024), "16KiB");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_value(spec("rate_limit.per_client_rps"), Value(20.0)), "20");
  EXPECT_EQ(format_value(spec("rate_limit.per_client_rps"), Value(0.25)), "0.25");
}

// parse_value: the key's own range and rules on top of the type.
bool accepts(std::string_view key, std::string_view text) {
  return parse_value(spec(key), text).ok();
}

TEST(ParseValue, PortRange) {
  EXPECT_TRUE(accepts("server.port", "0"));  // a free port, picked at start-up
  EXPECT_TRUE(accepts("server.port", "1"));
  EXPECT_TRUE(accepts("server.port", "65535"));
  EXPECT_FALSE(accepts("server.port", "65536"));
  EXPECT_FALSE(accepts("server.port", "-1"));
  EXPECT_FALSE(accepts("server.port", "http"));
  EXPECT_FALSE(accepts("server.port", ""));
  EXPECT_EQ(parse_value(spec("server.port"), "x").error().message, "expected an integer 0..65535");
}

TEST(ParseValue, Threads) {
  EXPECT_TRUE(accepts("server.threads", "0"));
  EXPECT_TRUE(accepts("server.threads", "256"));
  EXPECT_FALSE(accepts("server.threads", "257"));
  EXPECT_FALSE(accepts("server.threads", "-1"));
}

TEST(ParseValue, RatesMustBePositiveAndBurstsAtLeastOne) {
  EXPECT_TRUE(accepts("rate_limit.per_client_rps", "0.5"));
  EXPECT_FALSE(accepts("rate_limit.per_client_rps", "0"));
  EXPECT_FALSE(accepts("rate_limit.per_client_rps", "-1"));
  EXPECT_FALSE(accepts("rate_limit.per_session_rps", "nan"));
  EXPECT_TRUE(accepts("rate_limit.per_client_burst", "1"));
  EXPECT_FALSE(accepts("rate_limit.per_client_burst", "0.5"));
  EXPECT_FALSE(accepts("rate_limit.per_session_burst", "0"));
  EXPECT_EQ(parse_value(spec("rate_limit.per_client_rps"), "0").error().message,
            "expected a number > 0 and <= 1000000");
}

TEST(ParseValue, Timeouts) {
  EXPECT_EQ(std::get<milliseconds>(*parse_value(spec("server.read_timeout"), "250ms")),
            milliseconds(250));
  EXPECT_EQ(std::get<milliseconds>(*parse_value(spec("server.read_timeout"), "5000")),
            milliseconds(5000));  // bare = milliseconds
  EXPECT_FALSE(accepts("server.read_timeout", "0"));
  EXPECT_FALSE(accepts("server.idle_timeout", "0s"));
  EXPECT_FALSE(accepts("server.write_timeout", "2h"));
  EXPECT_TRUE(accepts("server.shutdown_grace", "0"));  // exit at once
  EXPECT_FALSE(accepts("server.read_timeout", "fast"));
}

TEST(ParseValue, MaxAgeIsInWholeSeconds) {
  EXPECT_EQ(std::get<milliseconds>(*parse_value(spec("cors.max_age"), "90")), seconds(90));
  EXPECT_EQ(std::get<milliseconds>(*parse_value(spec("cors.max_age"), "10m")), seconds(600));
  EXPECT_FALSE(accepts("cors.max_age", "1500ms"));
  EXPECT_TRUE(accepts("cors.max_age", "2000ms"));
  EXPECT_FALSE(accepts("cors.max_age", "25h"));
  Config c;
  spec("cors.max_age").set(c, *parse_value(spec("cors.max_age"), "2m"));
  EXPECT_EQ(c.cors.max_age, seconds(120));
}

TEST(ParseValue, Sizes) {
  EXPECT_EQ(std::get<int64_t>(*parse_value(spec("server.max_body_bytes"), "25MiB")),
            25 * 1024 * 1024);
  EXPECT_FALSE(accepts("server.max_body_bytes", "5GiB"));
  EXPECT_FALSE(accepts("server.max_header_bytes", "100"));
  const std::string message = parse_value(spec("server.max_body_bytes"), "10XB").error().message;
  EXPECT_NE(message.find("unknown size unit \"xb\""), std::string::npos) << message;
  EXPECT_NE(message.find("expected a size 1KiB..4GiB"), std::string::npos) << message;
}

TEST(ParseValue, Enums) {
  EXPECT_EQ(std::get<std::string>(*parse_value(spec("log.level"), "DEBUG")), "debug");
  EXPECT_EQ(std::get<std::string>(*parse_value(spec("log.level"), "warning")), "warn");
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    EXPECT_TRUE(accepts("log.level", level)) << level;
  }
  EXPECT_FALSE(accepts("log.level", "verbose"));
  EXPECT_FALSE(accepts("log.level", ""));
  EXPECT_EQ(parse_value(spec("log.level"), "loud").error().message,
            "expected one of trace, debug, info, warn, error, off");
  EXPECT_TRUE(accepts("log.format", "text"));
  EXPECT_FALSE(accepts("log.format", "xml"));
  EXPECT_EQ(std::get<std::string>(*parse_value(spec("server.environment"), "Production")),
            "production");
  EXPECT_EQ(std::get<std::string>(*parse_value(spec("server.environment"), "test")), "development");
  EXPECT_FALSE(accepts("server.environment", "staging"));
}

TEST(ParseValue, StringsRejectControlCharacters) {
  EXPECT_TRUE(accepts("server.host", "0.0.0.0"));
  EXPECT_FALSE(accepts("server.host", "a\nb"));
  EXPECT_FALSE(accepts("cors.allowed_origins", "http://a.example\r\nX-Evil: 1"));
  EXPECT_FALSE(accepts("log.dir", std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace scribepod::config
