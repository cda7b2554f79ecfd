// The command line: `scribepod config` (effective configuration, secrets
// redacted), `version`, exit codes for bad values and bad usage.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "http_client.h"
#include "server_process.h"

namespace scribepod::testing {
namespace {

constexpr const char* kSecretKey = "cfg-secret-key-9f8e7d";
constexpr const char* kSecretAdmin = "cfg-admin-key-1a2b3c";

nlohmann::json parse_json(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

TEST(ConfigCliTest, ConfigPrintsJsonWithKeysRedacted) {
  const CliResult r =
      run_cli({"config"}, {{"API_KEY", std::string(kSecretKey) + ",second-" + kSecretKey},
                           {"ADMIN_API_KEY", kSecretAdmin}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  ASSERT_TRUE(j.contains("auth") && j["auth"].contains("api_keys")) << r.out;
  ASSERT_TRUE(j["auth"]["api_keys"].is_array()) << r.out;
  EXPECT_EQ(j["auth"]["api_keys"].size(), 2u) << r.out;  // counted, not shown
  EXPECT_EQ(r.out.find(kSecretKey), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kSecretAdmin), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kSecretKey), std::string::npos) << r.err;
  EXPECT_FALSE(j["auth"].value("admin_key", "").empty()) << "admin key shown as unset: " << r.out;
}

TEST(ConfigCliTest, ConfigShowsDefaults) {
  const CliResult r = run_cli({"config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["server"]["port"], 4200);
  EXPECT_EQ(j["server"]["host"], "127.0.0.1");
  EXPECT_EQ(j["server"]["max_body_bytes"], 10 * 1024 * 1024);
  EXPECT_TRUE(j["auth"]["api_keys"].empty()) << r.out;
  EXPECT_TRUE(j["cors"]["allowed_origins"].empty()) << r.out;
}

TEST(ConfigCliTest, ConfigReflectsEnvironmentAndFlags) {
  const CliResult r = run_cli(
      {"config", "--port", "5123", "--set", "server.read_timeout=1500ms", "--set",
       "rate_limit.per_client_burst=7"},
      {{"CORS_ALLOWED_ORIGINS", "http://a.example,http://b.example:8080"}, {"LOG_LEVEL", "warn"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["server"]["port"], 5123);
  EXPECT_EQ(j["server"]["read_timeout"], "1500ms");
  EXPECT_EQ(j["rate_limit"]["per_client_burst"], 7.0);
  EXPECT_EQ(j["log"]["level"], "warn");
  EXPECT_EQ(j["cors"]["allowed_origins"],
            nlohmann::json::array({"http://a.example", "http://b.example:8080"}));
}

TEST(ConfigCliTest, FlagsBeatEnvironment) {
  const CliResult r = run_cli({"config", "--port", "5124"}, {{"SCRIBEPOD_SERVER_PORT", "5125"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out)["server"]["port"], 5124) << r.out;
}

TEST(ConfigCliTest, DotEnvInWorkingDirectoryIsRead) {
  TempDir cwd;
  cwd.write(".env", "SCRIBEPOD_SERVER_PORT=4321\nAPI_KEY=" + std::string(kSecretKey) + "\n");
  const CliResult r = run_cli({"config"}, {}, cwd.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  EXPECT_EQ(j["server"]["port"], 4321) << r.out;
  EXPECT_EQ(j["auth"]["api_keys"].size(), 1u) << r.out;
  EXPECT_EQ(r.out.find(kSecretKey), std::string::npos);
}

TEST(ConfigCliTest, HarnessDoesNotLeakTheCallersEnvironment) {
  // The test process's own environment must not reach the child.
  ::setenv("API_KEY", "leaked-from-test-process", 1);
  ::setenv("SCRIBEPOD_SERVER_PORT", "4999", 1);
  const CliResult r = run_cli({"config"});
  ::unsetenv("API_KEY");
  ::unsetenv("SCRIBEPOD_SERVER_PORT");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  EXPECT_TRUE(j["auth"]["api_keys"].empty()) << r.out;
  EXPECT_EQ(j["server"]["port"], 4200) << r.out;
}

TEST(ConfigCliTest, TomlConfigFileIsRead) {
  TempDir dir;
  const auto file = dir.write("scribepod.toml", "[server]\nport = 4777\nidle_timeout = \"5s\"\n");
  const CliResult r = run_cli({"config", "-c", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  EXPECT_EQ(j["server"]["port"], 4777) << r.out;
  EXPECT_EQ(j["server"]["idle_timeout"], "5s") << r.out;
}

TEST(ConfigCliTest, InvalidValueExits3NamingTheKey) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"config", "--port", "abc"},
                                             {"serve", "--port", "abc"},
                                             {"config", "--set", "server.port=70000"}}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 3) << args[0] << " " << args.back() << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("server.port"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("\"message\":\"listening\""), std::string::npos);
  }
  const CliResult env_bad = run_cli({"config"}, {{"LOG_LEVEL", "loud"}});
  EXPECT_EQ(env_bad.exit_code, 3) << env_bad.err;
  EXPECT_NE(env_bad.err.find("log.level"), std::string::npos) << env_bad.err;
}

TEST(ConfigCliTest, MissingFilesExit3) {
  const CliResult env_file = run_cli({"config", "--env-file", "/nonexistent/scribepod.env"});
  EXPECT_EQ(env_file.exit_code, 3) << env_file.err;
  EXPECT_NE(env_file.err.find("/nonexistent/scribepod.env"), std::string::npos) << env_file.err;
  const CliResult keys = run_cli({"config", "--set", "auth.api_keys_file=/nonexistent/keys"});
  EXPECT_EQ(keys.exit_code, 3) << keys.err;
  EXPECT_NE(keys.err.find("auth.api_keys_file"), std::string::npos) << keys.err;
}

TEST(ConfigCliTest, VersionJson) {
  const CliResult r = run_cli({"version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  ASSERT_TRUE(j.contains("version") && j["version"].is_string()) << r.out;
  EXPECT_TRUE(std::regex_match(j["version"].get<std::string>(), std::regex(R"(\d+\.\d+\.\d+.*)")))
      << r.out;
  EXPECT_TRUE(j.contains("commit") && j["commit"].is_string()) << r.out;
  EXPECT_TRUE(j.contains("build") && j["build"].is_string()) << r.out;
  // The same version the server reports.
  auto server = ServerProcess::serve();
  EXPECT_EQ(http_get(server->port(), "/health").json().value("version", ""), j["version"]);
}

TEST(ConfigCliTest, VersionText) {
  const CliResult r = run_cli({"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("scribepod ", 0), 0u) << r.out;
}

TEST(ConfigCliTest, UsageErrorsExit2) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"bogus"}, {}, {"serve", "--frobnicate"}, {"version", "--json", "extra"}}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << (args.empty() ? "(no arguments)" : args[0]) << "\n"
                              << r.out << r.err;
  }
}

TEST(ConfigCliTest, HelpExits0) {
  const CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"serve", "config", "version"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << r.out;
  }
  const CliResult serve_help = run_cli({"serve", "--help"});
  EXPECT_EQ(serve_help.exit_code, 0);
  EXPECT_NE(serve_help.out.find("--allow-unauthenticated"), std::string::npos) << serve_help.out;
}

}  // namespace
}  // namespace scribepod::testing
