#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>  // setenv, getenv

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "config/keys.h"
#include "test_support.h"

namespace scribepod::config {
namespace {

using namespace scribepod::config::test_support;  // NOLINT: test helpers
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Loading: precedence

class LoadTest : public ::testing::Test {
 protected:
  // sample_text, except that the keys file must exist.
  std::string sample(const KeySpec& s) {
    if (s.key == "auth.api_keys_file") return dir_.write("sample-keys.txt", "");
    return sample_text(s);
  }

  TempDir dir_;
};

TEST_F(LoadTest, DefaultsWhenNothingIsSet) {
  const Config c = ok(load(Sources{}));
  EXPECT_EQ(c.server.port, 4200);
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_TRUE(c.auth.api_keys.empty());
}

TEST_F(LoadTest, EachLayerOverridesThePreviousOne) {
  Sources s;
  EXPECT_EQ(ok(load(s)).server.port, 4200);  // default

  s.toml_path = dir_.write("c.toml", "[server]\nport = 1001\nhost = \"toml-host\"\n");
  EXPECT_EQ(ok(load(s)).server.port, 1001);

  s.dotenv_path = dir_.write(".env", "SCRIBEPOD_SERVER_PORT=1002\nHOST=dotenv-host\n");
  EXPECT_EQ(ok(load(s)).server.port, 1002);
  EXPECT_EQ(ok(load(s)).server.host, "dotenv-host");

  s.environment = {{"SCRIBEPOD_SERVER_PORT", "1003"}};
  EXPECT_EQ(ok(load(s)).server.port, 1003);
  EXPECT_EQ(ok(load(s)).server.host, "dotenv-host");  // untouched keys keep lower layers

  s.flags = {{"server.port", "1004"}};
  const Config c = ok(load(s));
  EXPECT_EQ(c.server.port, 1004);
  EXPECT_EQ(c.server.host, "dotenv-host");
}

TEST_F(LoadTest, PrecedenceHoldsForEveryType) {
  // log.level (enum), cors.max_age (duration), rate_limit.enabled (bool),
  // cors.allowed_origins (list), rate_limit.per_client_rps (double).
  Sources s;
  s.toml_path = dir_.write("c.toml",
                           "[log]\nlevel = \"trace\"\n"
                           "[cors]\nmax_age = 1\nallowed_origins = [\"http://toml.example\"]\n"
                           "[rate_limit]\nenabled = false\nper_client_rps = 1.5\n");
  Config c = ok(load(s));
  EXPECT_EQ(c.log.level, "trace");
  EXPECT_EQ(c.cors.max_age, seconds(1));
  EXPECT_FALSE(c.rate_limit.enabled);
  EXPECT_EQ(c.cors.allowed_origins, std::vector<std::string>{"http://toml.example"});
  EXPECT_DOUBLE_EQ(c.rate_limit.per_client_rps, 1.5);

  s.dotenv_path = dir_.write(".env",
                             "LOG_LEVEL=debug\nSCRIBEPOD_CORS_MAX_AGE=2\n"
                             "SCRIBEPOD_RATE_LIMIT_ENABLED=yes\n"
                             "CORS_ALLOWED_ORIGINS=http://dotenv.example\n"
                             "SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS=2.5\n");
  c = ok(load(s));
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.cors.max_age, seconds(2));
  EXPECT_TRUE(c.rate_limit.enabled);
  EXPECT_EQ(c.cors.allowed_origins, std::vector<std::string>{"http://dotenv.example"});
  EXPECT_DOUBLE_EQ(c.rate_limit.per_client_rps, 2.5);

  s.environment = {{"LOG_LEVEL", "warn"},
                   {"SCRIBEPOD_CORS_MAX_AGE", "3s"},
                   {"SCRIBEPOD_RATE_LIMIT_ENABLED", "off"},
                   {"CORS_ALLOWED_ORIGINS", "http://env.example,http://env2.example"},
                   {"SCRIBEPOD_RATE_LIMIT_PER_CLIENT_RPS", "3.5"}};
  c = ok(load(s));
  EXPECT_EQ(c.log.level, "warn");
  EXPECT_EQ(c.cors.max_age, seconds(3));
  EXPECT_FALSE(c.rate_limit.enabled);
  EXPECT_EQ(c.cors.allowed_origins,
            (std::vector<std::string>{"http://env.example", "http://env2.example"}));
  EXPECT_DOUBLE_EQ(c.rate_limit.per_client_rps, 3.5);

  s.flags = {{"log.level", "error"},
             {"cors.max_age", "4"},
             {"rate_limit.enabled", "true"},
             {"cors.allowed_origins", ""},
             {"rate_limit.per_client_rps", "4.5"}};
  c = ok(load(s));
  EXPECT_EQ(c.log.level, "error");
  EXPECT_EQ(c.cors.max_age, seconds(4));
  EXPECT_TRUE(c.rate_limit.enabled);
  EXPECT_TRUE(c.cors.allowed_origins.empty());  // an empty flag clears the list
  EXPECT_DOUBLE_EQ(c.rate_limit.per_client_rps, 4.5);
}

TEST_F(LoadTest, ProcessEnvironmentAliasBeatsDotenvPrimary) {
  // Layers first: the environment wins over .env whatever names they use.
  Sources s;
  s.dotenv_path = dir_.write(".env", "SCRIBEPOD_SERVER_PORT=1111\n");
  s.environment = {{"PORT", "2222"}};
  EXPECT_EQ(ok(load(s)).server.port, 2222);
}

TEST_F(LoadTest, EveryVariableNameSetsItsKey) {
  for (const KeySpec& sp : key_table()) {
    for (std::string_view var : sp.env) {
      const std::string text = sample(sp);
      std::map<std::string, std::string> env = {{std::string(var), text}};
      // store.backend = postgres needs a URL (a check across keys).
      if (sp.key == "store.backend") {
        env["SCRIBEPOD_STORE_POSTGRES_URL"] = "postgresql://sample@127.0.0.1:5432/sample";
      }
      const Config c = ok(load(env_only(env)));
      EXPECT_EQ(sp.get(c), *parse_value(sp, text)) << var;
      EXPECT_NE(sp.get(c), sp.get(Config{})) << var;
    }
  }
}

TEST_F(LoadTest, EveryKeyCanBeSetFromTomlAndFlags) {
  for (const KeySpec& sp : key_table()) {
    const std::string text = sample(sp);
    const Value expected = *parse_value(sp, text);

    // Settings that other settings require (checked across keys).
    const bool needs_postgres_url = sp.key == "store.backend";
    const std::string pg_url = "postgresql://sample@127.0.0.1:5432/sample";

    Sources flags;
    flags.flags = {{std::string(sp.key), text}};
    if (needs_postgres_url) flags.flags["store.postgres_url"] = pg_url;
    EXPECT_EQ(sp.get(ok(load(flags))), expected) << sp.key;

    // As a TOML string where the type allows; lists as arrays; numbers bare.
    std::string toml_value;
    switch (sp.type) {
      case ValueType::kBool:
      case ValueType::kInteger:
      case ValueType::kDouble:
        toml_value = text;
        break;
      case ValueType::kStringList:
        toml_value = "[\"https://a.example\", \"http://b.example:8080\"]";
        break;
      default:
        toml_value = "\"" + text + "\"";
    }
    const std::string key(sp.key);
    const auto dot = key.find('.');
    const std::string doc =
        dot == std::string::npos
            ? key + " = " + toml_value + "\n"
            : "[" + key.substr(0, dot) + "]\n" + key.substr(dot + 1) + " = " + toml_value + "\n" +
                  (needs_postgres_url ? "postgres_url = \"" + pg_url + "\"\n" : "");
    auto from_toml = load_from_toml_text(doc);
    ASSERT_TRUE(from_toml.ok()) << doc << from_toml.error().message;
    EXPECT_EQ(sp.get(*from_toml), expected) << sp.key;
  }
}

TEST_F(LoadTest, PrimaryNameWinsOverAliasesAndWarns) {
  std::vector<std::string> warnings;
  const Config c = ok(load(
      env_only(
          {{"SCRIBEPOD_SERVER_PORT", "5000"}, {"REASON_SERVER_PORT", "6000"}, {"PORT", "7000"}}),
      warnings));
  EXPECT_EQ(c.server.port, 5000);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0],
            "environment variable REASON_SERVER_PORT is ignored: SCRIBEPOD_SERVER_PORT also sets "
            "server.port and wins");
  EXPECT_EQ(warnings[1],
            "environment variable PORT is ignored: SCRIBEPOD_SERVER_PORT also sets server.port "
            "and wins");
}

TEST_F(LoadTest, AliasesInTableOrder) {
  EXPECT_EQ(ok(load(env_only({{"REASON_SERVER_PORT", "6000"}, {"PORT", "7000"}}))).server.port,
            6000);
  EXPECT_EQ(ok(load(env_only({{"SCRIBEPOD_ENV", "production"}, {"NODE_ENV", "development"}})))
                .server.environment,
            "production");
  EXPECT_EQ(ok(load(env_only({{"NODE_ENV", "test"}}))).server.environment, "development");
}

TEST_F(LoadTest, SameValueUnderTwoNamesDoesNotWarn) {
  std::vector<std::string> warnings;
  const Config c =
      ok(load(env_only({{"SCRIBEPOD_SERVER_PORT", "5000"}, {"PORT", "5000"}}), warnings));
  EXPECT_EQ(c.server.port, 5000);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(LoadTest, ConflictWarningNeverShowsSecrets) {
  std::vector<std::string> warnings;
  const Config c = ok(load(
      env_only({{"SCRIBEPOD_AUTH_ADMIN_KEY", "primary-secret"}, {"ADMIN_API_KEY", "alias-secret"}}),
      warnings));
  EXPECT_EQ(c.auth.admin_key, "primary-secret");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].find("secret"), std::string::npos) << warnings[0];
}

TEST_F(LoadTest, UnknownScribepodVariablesWarnOthersAreIgnored) {
  std::vector<std::string> warnings;
  const Config c = ok(load(env_only({{"SCRIBEPOD_SERVER_PROT", "1"},
                                     {"SCRIBEPOD_SOURCE_DIR", "/src"},
                                     {"SCRIBEPOD_NOTHING_LIKE_IT", "1"},
                                     {"PATH", "/usr/bin"},
                                     {"WHISPER_SERVER_PORT", "5000"}}),
                           warnings));
  EXPECT_EQ(c.server.port, 4200);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0],
            "environment variable SCRIBEPOD_NOTHING_LIKE_IT is not a setting and is ignored");
  EXPECT_EQ(warnings[1],
            "environment variable SCRIBEPOD_SERVER_PROT is not a setting and is ignored; did you "
            "mean SCRIBEPOD_SERVER_PORT?");
}

TEST_F(LoadTest, OneArgumentLoadIgnoresWarnings) {
  EXPECT_TRUE(load(env_only({{"SCRIBEPOD_TYPO", "1"}})).ok());
}

// The seed is a 32-bit sampling seed: its whole range loads, one more does not.
TEST_F(LoadTest, LlmSeedBatchAndQueueTimeout) {
  const Config c = ok(load(env_only({{"SCRIBEPOD_LLM_SEED", "4294967295"},
                                     {"SCRIBEPOD_LLM_BATCH", "64"},
                                     {"SCRIBEPOD_LLM_QUEUE_TIMEOUT", "0"}})));
  EXPECT_EQ(c.llm.seed, 4294967295U);
  EXPECT_EQ(c.llm.batch, 64);
  EXPECT_EQ(c.llm.queue_timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_LLM_SEED", "4294967296"}}))),
            "invalid value \"4294967296\" for llm.seed (from environment variable "
            "SCRIBEPOD_LLM_SEED): expected an integer 0..4294967295");
}

// ---------------------------------------------------------------------------
// Loading: errors name key, value and source

TEST_F(LoadTest, ErrorFromEnvironmentNamesTheVariable) {
  EXPECT_EQ(error_of(load(env_only({{"REASON_SERVER_PORT", "abc"}}))),
            "invalid value \"abc\" for server.port (from environment variable REASON_SERVER_PORT): "
            "expected an integer 0..65535");
}

TEST_F(LoadTest, ErrorFromDotenvNamesTheFileAndVariable) {
  Sources s;
  s.dotenv_path = dir_.write(".env", "LOG_LEVEL=chatty\n");
  EXPECT_EQ(error_of(load(s)), "invalid value \"chatty\" for log.level (from .env file \"" +
                                   *s.dotenv_path +
                                   "\", variable LOG_LEVEL): expected one of trace, debug, info, "
                                   "warn, error, off");
}

TEST_F(LoadTest, ErrorFromTomlNamesFileLineAndColumn) {
  Sources s;
  s.toml_path = dir_.write("c.toml", "[server]\nhost = \"0.0.0.0\"\nport = 70000\n");
  EXPECT_EQ(error_of(load(s)), "invalid value 70000 for server.port (from config file " +
                                   *s.toml_path + ":3:8): expected an integer 0..65535");
}

TEST_F(LoadTest, ErrorFromFlagNamesTheCommandLine) {
  Sources s;
  s.flags = {{"server.read_timeout", "soon"}};
  EXPECT_EQ(error_of(load(s)),
            "invalid value \"soon\" for server.read_timeout (from the command line): expected a "
            "duration 1ms..1h (e.g. 10s, 250ms; a bare number means milliseconds)");
}

TEST_F(LoadTest, UnknownFlagIsAnError) {
  Sources s;
  s.flags = {{"server.prot", "1"}};
  EXPECT_EQ(error_of(load(s)),
            "unknown setting \"server.prot\" (from the command line); did you mean "
            "\"server.port\"?");
}

TEST_F(LoadTest, ErrorsShowOddValuesSafely) {
  const std::string message = error_of(load(env_only({{"PORT", "4\n2\"\xff"}})));
  EXPECT_EQ(message,
            "invalid value \"4\\x0a2\\\"\\xff\" for server.port (from environment variable "
            "PORT): expected an integer 0..65535");
  const std::string long_value(500, '9');
  const std::string long_message = error_of(load(env_only({{"PORT", long_value}})));
  EXPECT_LT(long_message.size(), 250u);
  EXPECT_NE(long_message.find("...\""), std::string::npos);
}

TEST_F(LoadTest, ErrorsNeverShowSecrets) {
  auto r = load_from_toml_text("[auth]\napi_keys = \"sk-supersecret\"\n");
  const std::string message = error_of(r);
  EXPECT_EQ(message.find("sk-supersecret"), std::string::npos) << message;
  EXPECT_NE(message.find("auth.api_keys"), std::string::npos) << message;
  EXPECT_NE(message.find("(secret, not shown)"), std::string::npos) << message;

  const std::string env_message =
      error_of(load(env_only({{"ADMIN_API_KEY", "line\nbreak-secret"}})));
  EXPECT_EQ(env_message.find("break-secret"), std::string::npos) << env_message;
}

// ---------------------------------------------------------------------------
// Files

TEST_F(LoadTest, MissingTomlFileIsAnErrorNamingThePath) {
  Sources s;
  s.toml_path = dir_.file("nope.toml");
  EXPECT_EQ(error_of(load(s)),
            "cannot read config file \"" + *s.toml_path + "\": No such file or directory");
}

TEST_F(LoadTest, TomlPathThatIsADirectoryIsAnError) {
  Sources s;
  s.toml_path = dir_.file("");
  EXPECT_NE(error_of(load(s)).find("is a directory"), std::string::npos);
}

TEST_F(LoadTest, MissingDefaultDotenvIsFine) {
  Sources s;
  s.dotenv_path = dir_.file(".env");
  EXPECT_TRUE(load(s).ok());
}

TEST_F(LoadTest, MissingExplicitDotenvIsAnError) {
  Sources s;
  s.dotenv_path = dir_.file("custom.env");
  s.dotenv_required = true;
  EXPECT_EQ(error_of(load(s)),
            "cannot read .env file \"" + *s.dotenv_path + "\": No such file or directory");
}

TEST_F(LoadTest, MalformedDotenvNamesFileAndLine) {
  Sources s;
  s.dotenv_path = dir_.write(".env", "A=1\nB='open\n");
  EXPECT_EQ(error_of(load(s)),
            ".env file \"" + *s.dotenv_path + "\": line 2: unterminated single quote");
}

TEST_F(LoadTest, DotenvDoesNotTouchTheProcessEnvironment) {
  Sources s;
  s.dotenv_path = dir_.write(".env", "SCRIBEPOD_TEST_ONLY_IN_DOTENV=1\nLOG_LEVEL=debug\n");
  EXPECT_EQ(ok(load(s)).log.level, "debug");
  EXPECT_EQ(getenv("SCRIBEPOD_TEST_ONLY_IN_DOTENV"), nullptr);
}

TEST_F(LoadTest, KeysFileIsMergedWithApiKey) {
  const std::string keys = dir_.write("keys.txt",
                                      "# team keys\n"
                                      "file-key-1\n"
                                      "\n"
                                      "   file-key-2   \r\n"
                                      "  # indented comment\n"
                                      "env-key\n");  // duplicate of API_KEY's, kept once
  const Config c =
      ok(load(env_only({{"API_KEY", "env-key, other-env-key"}, {"API_KEYS_FILE", keys}})));
  EXPECT_EQ(c.auth.api_keys,
            (std::vector<std::string>{"env-key", "other-env-key", "file-key-1", "file-key-2"}));
  EXPECT_EQ(c.auth.api_keys_file, keys);
}

TEST_F(LoadTest, MissingKeysFileIsAnErrorNamingThePath) {
  const std::string path = dir_.file("missing-keys.txt");
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_AUTH_API_KEYS_FILE", path}}))),
            "cannot read API keys file \"" + path +
                "\": No such file or directory (auth.api_keys_file, from environment variable "
                "SCRIBEPOD_AUTH_API_KEYS_FILE)");
}

TEST_F(LoadTest, KeyWithWhitespaceInKeysFileIsAnError) {
  const std::string keys = dir_.write("keys.txt", "good\nbad key-secret\n");
  const std::string message = error_of(load(env_only({{"API_KEYS_FILE", keys}})));
  EXPECT_EQ(message, "API keys file \"" + keys +
                         "\" line 2: a key must not contain whitespace or control characters");
  EXPECT_EQ(message.find("key-secret"), std::string::npos);
}

TEST_F(LoadTest, EmptyKeysFileAddsNothing) {
  const std::string keys = dir_.write("keys.txt", "# none yet\n\n");
  EXPECT_TRUE(ok(load(env_only({{"API_KEYS_FILE", keys}}))).auth.api_keys.empty());
}

// ---------------------------------------------------------------------------
// Cross-field validation

TEST(Validate, ApiKeys) {
  EXPECT_EQ(error_of(load_from_toml_text("[auth]\napi_keys = [\"ok\", \"\"]\n", "f")),
            "auth.api_keys: key 2 is empty or contains whitespace (from config file f:2:12)");
  EXPECT_FALSE(load_from_toml_text("[auth]\napi_keys = [\"has space\"]\n").ok());
  // Comma-separated lists drop empty items, so a trailing comma is harmless.
  const Config c = ok(load(env_only({{"API_KEY", "a,b,,a,"}})));
  EXPECT_EQ(c.auth.api_keys, (std::vector<std::string>{"a", "b"}));  // duplicates dropped
}

TEST(Validate, AdminKey) {
  EXPECT_EQ(error_of(load(env_only({{"ADMIN_API_KEY", "two words"}}))),
            "auth.admin_key contains whitespace (from environment variable ADMIN_API_KEY)");
}

TEST(Validate, Origins) {
  for (const char* bad :
       {"http://localhost:3000/", "localhost:3000", "*", "http://*.example", "ftp://a.example",
        "http://", "https://a.example/path", "null", "http://user@a.example"}) {
    const std::string message = error_of(load(env_only({{"CORS_ALLOWED_ORIGINS", bad}})));
    EXPECT_NE(message.find("in cors.allowed_origins (from environment variable "
                           "CORS_ALLOWED_ORIGINS): expected an exact origin"),
              std::string::npos)
        << bad << ": " << message;
  }
  const Config c = ok(load(env_only(
      {{"CORS_ALLOWED_ORIGINS", "http://LocalHost:3000, https://[::1]:8443,http://127.0.0.1"}})));
  EXPECT_EQ(c.cors.allowed_origins,
            (std::vector<std::string>{"http://localhost:3000", "https://[::1]:8443",
                                      "http://127.0.0.1"}));
}

TEST(Validate, EmptyHostAndDataDir) {
  EXPECT_EQ(error_of(load(env_only({{"HOST", ""}}))),
            "server.host must not be empty (from environment variable HOST)");
  EXPECT_EQ(error_of(load_from_toml_text("data_dir = \"\"\n", "f")),
            "data_dir must not be empty (from config file f:1:12)");
}

TEST(Validate, RemoteAsrNeedsAnHttpUrl) {
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_ASR_ENGINE", "remote"}}))),
            "asr.remote_url must be set when asr.engine is remote (from environment variable "
            "SCRIBEPOD_ASR_ENGINE)");
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_ASR_REMOTE_URL", "localhost:8000"}}))),
            "invalid value \"localhost:8000\" for asr.remote_url (from environment variable "
            "SCRIBEPOD_ASR_REMOTE_URL): expected an http:// or https:// URL");
  const Config c = ok(load(env_only({{"SCRIBEPOD_ASR_ENGINE", "REMOTE"},
                                     {"SCRIBEPOD_ASR_REMOTE_URL", "http://127.0.0.1:8000"}})));
  EXPECT_EQ(c.asr.engine, "remote");
  EXPECT_FALSE(load(env_only({{"SCRIBEPOD_ASR_ENGINE", "vosk"}})).ok());
}

TEST(Validate, OpenAiMindNeedsAnHttpUrl) {
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_MIND_ENGINE", "openai"}}))),
            "llm.remote_url must be set when mind.engine is openai (from environment variable "
            "SCRIBEPOD_MIND_ENGINE)");
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_LLM_REMOTE_URL", "ftp://x"}}))),
            "invalid value \"ftp://x\" for llm.remote_url (from environment variable "
            "SCRIBEPOD_LLM_REMOTE_URL): expected an http:// or https:// URL");
  const Config c = ok(load(env_only({{"SCRIBEPOD_MIND_ENGINE", "openai"},
                                     {"OPENAI_API_KEY", "sk-test"},
                                     {"SCRIBEPOD_LLM_REMOTE_URL", "http://127.0.0.1:8080"}})));
  EXPECT_EQ(c.llm.remote_api_key, "sk-test");
}

TEST(Validate, PostgresStoreNeedsAPostgresUrlAndKeepsItSecret) {
  EXPECT_EQ(error_of(load(env_only({{"SCRIBEPOD_STORE_BACKEND", "postgres"}}))),
            "store.postgres_url must be set when store.backend is postgres (from environment "
            "variable SCRIBEPOD_STORE_BACKEND)");
  const std::string bad = error_of(load(env_only({{"DATABASE_URL", "mysql://u:hunter2@h/db"}})));
  EXPECT_NE(bad.find("must start with postgresql://"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("hunter2"), std::string::npos) << "a secret leaked: " << bad;
  const Config c = ok(load(env_only({{"SCRIBEPOD_STORE_BACKEND", "postgresql"},
                                     {"DATABASE_URL", "postgresql://u:hunter2@127.0.0.1/db"}})));
  EXPECT_EQ(c.store.backend, "postgres");
  EXPECT_EQ(to_redacted_json(c).find("hunter2"), std::string::npos);
}

TEST(RedactedJson, RemoteAsrKeyIsSecret) {
  const Config c = ok(load(env_only({{"SCRIBEPOD_ASR_REMOTE_API_KEY", "sk-remote-123"}})));
  const std::string text = to_redacted_json(c);
  EXPECT_EQ(text.find("sk-remote-123"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["asr"]["remote_api_key"], "***");
}

TEST(Validate, EmptyValueForANumberIsAnError) {
  EXPECT_FALSE(load(env_only({{"PORT", ""}})).ok());
  EXPECT_FALSE(load(env_only({{"SCRIBEPOD_RATE_LIMIT_ENABLED", ""}})).ok());
}

// ---------------------------------------------------------------------------
// Redacted JSON

TEST(RedactedJson, NestedBySectionWithReadableValues) {
  const auto j = nlohmann::json::parse(to_redacted_json(Config{}));
  EXPECT_EQ(j["server"]["port"], 4200);
  EXPECT_EQ(j["server"]["host"], "127.0.0.1");
  EXPECT_EQ(j["server"]["read_timeout"], "10s");
  EXPECT_EQ(j["server"]["max_body_bytes"], 10 * 1024 * 1024);
  EXPECT_EQ(j["cors"]["max_age"], "10m");
  EXPECT_EQ(j["rate_limit"]["per_client_rps"], 20.0);
  EXPECT_EQ(j["rate_limit"]["enabled"], true);
  EXPECT_EQ(j["log"]["level"], "info");
  EXPECT_EQ(j["data_dir"], "data");
  EXPECT_EQ(j["auth"]["admin_key"], "");
  EXPECT_EQ(j["auth"]["api_keys"], nlohmann::json::array());
  EXPECT_EQ(j["asr"]["engine"], "pocketsphinx");
  EXPECT_EQ(j["asr"]["remote_timeout"], "2m");
  EXPECT_EQ(j["audio"]["max_duration_s"], 600.0);
  EXPECT_EQ(j["live"]["endpoint_silence"], "500ms");
  EXPECT_EQ(j["store"]["backend"], "sqlite");
  EXPECT_EQ(j.size(), 13u);  // twelve sections and data_dir
  std::size_t leaves = 0;
  for (const auto& [section, value] : j.items()) leaves += value.is_object() ? value.size() : 1;
  EXPECT_EQ(leaves, key_table().size());
}

TEST(RedactedJson, SecretsNeverAppear) {
  const Config c = ok(load(env_only({{"API_KEY", "sk-live-abc123,sk-live-def456"},
                                     {"ADMIN_API_KEY", "admin-hunter2"},
                                     {"PORT", "8080"}})));
  for (int indent : {-1, 0, 2, 4}) {
    const std::string text = to_redacted_json(c, indent);
    EXPECT_EQ(text.find("sk-live"), std::string::npos) << text;
    EXPECT_EQ(text.find("abc123"), std::string::npos) << text;
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  }
  const auto j = nlohmann::json::parse(to_redacted_json(c));
  EXPECT_EQ(j["auth"]["api_keys"], nlohmann::json::array({"***", "***"}));
  EXPECT_EQ(j["auth"]["admin_key"], "***");
  EXPECT_EQ(j["server"]["port"], 8080);
}

TEST(RedactedJson, IndentZeroOrNegativeIsCompact) {
  const std::string compact = to_redacted_json(Config{}, -1);
  EXPECT_EQ(compact.find('\n'), std::string::npos);
  EXPECT_NE(to_redacted_json(Config{}).find("\n  \"server\""), std::string::npos);
}

TEST(RedactedJson, InvalidUtf8DoesNotThrow) {
  Config c;
  c.server.static_dir = "bad\xff";
  std::string text;
  EXPECT_NO_THROW(text = to_redacted_json(c));
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["server"]["static_dir"], "bad\xEF\xBF\xBD");  // U+FFFD
}

// ---------------------------------------------------------------------------
// Process environment

TEST(ProcessEnvironment, SnapshotsEnviron) {
  ASSERT_EQ(setenv("SCRIBEPOD_CONFIG_TEST_VAR", "a=b", 1), 0);
  const auto env = process_environment();
  ASSERT_TRUE(env.contains("SCRIBEPOD_CONFIG_TEST_VAR"));
  EXPECT_EQ(env.at("SCRIBEPOD_CONFIG_TEST_VAR"), "a=b");
  unsetenv("SCRIBEPOD_CONFIG_TEST_VAR");
}

// ---------------------------------------------------------------------------
// Docs and the example file cannot drift from the table.

std::string read_source_file(const std::string& relative) {
  const char* root = getenv("SCRIBEPOD_SOURCE_DIR");
  if (root == nullptr) return {};
  std::ifstream in(fs::path(root) / relative, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(Docs, ConfigurationMdDocumentsEveryKeyAndVariable) {
  if (getenv("SCRIBEPOD_SOURCE_DIR") == nullptr) GTEST_SKIP() << "SCRIBEPOD_SOURCE_DIR not set";
  const std::string doc = read_source_file("docs/configuration.md");
  ASSERT_FALSE(doc.empty()) << "docs/configuration.md missing";
  const Config defaults;
  for (const KeySpec& s : key_table()) {
    EXPECT_NE(doc.find("`" + std::string(s.key) + "`"), std::string::npos)
        << s.key << " is not documented";
    for (std::string_view var : s.env) {
      EXPECT_NE(doc.find("`" + std::string(var) + "`"), std::string::npos)
          << var << " is not documented";
    }
    const std::string shown = format_value(s, s.get(defaults));
    if (!shown.empty()) {
      EXPECT_NE(doc.find("`" + shown + "`"), std::string::npos)
          << "default of " << s.key << " (" << shown << ") is not documented";
    }
  }
}

TEST(Docs, ExampleTomlHasEveryKeyAndTheDefaults) {
  if (getenv("SCRIBEPOD_SOURCE_DIR") == nullptr) GTEST_SKIP() << "SCRIBEPOD_SOURCE_DIR not set";
  const std::string text = read_source_file("config/scribepod.example.toml");
  ASSERT_FALSE(text.empty()) << "config/scribepod.example.toml missing";
  const Config c = ok(load_from_toml_text(text, "scribepod.example.toml"));
  EXPECT_EQ(to_redacted_json(c), to_redacted_json(Config{}));
  for (const KeySpec& s : key_table()) {
    const std::string key(s.key);
    const std::string leaf = key.substr(key.find('.') + 1);
    EXPECT_NE(text.find("\n" + leaf + " = "), std::string::npos) << key << " missing";
  }
}

}  // namespace
}  // namespace scribepod::config
