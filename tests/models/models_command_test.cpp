// `models list` and `models pull` as the CLI runs them: exit codes, text and
// JSON output, the user catalogue, and a real pull from the loopback TEST
// DOUBLE server.
#include "models/models_command.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "models/catalog.h"
#include "test_double_http_server.h"

namespace scribepod::models {
namespace {

namespace fs = std::filesystem;
using testing::Fault;
using testing::TestDoubleHttpServer;

std::string sha256_hex(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xf];
  }
  return hex;
}

class ModelsCommandTest : public ::testing::Test {
 protected:
  ModelsCommandTest() {
    dir_ = fs::temp_directory_path() /
           ("scribepod_models_cmd_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::mt19937 rng(7);
    body_.resize(1'500'000);
    for (auto& c : body_) c = static_cast<char>(rng() & 0xff);
    pull_.tty = false;
    pull_.download.retry_backoff = std::chrono::milliseconds(10);
    pull_.download.low_speed_time = std::chrono::seconds(1);
  }
  ~ModelsCommandTest() override { fs::remove_all(dir_); }

  // A user catalogue entry pointing at the test double.
  void add_local_model(const TestDoubleHttpServer& server, bool pinned = true) {
    nlohmann::json m = {{"name", "local-test"},
                        {"kind", "llm"},
                        {"url", server.url("/local-test.gguf")},
                        {"size_bytes", body_.size()},
                        {"description", "served by the loopback test double"}};
    if (pinned) m["sha256"] = sha256_hex(body_);
    std::ofstream(user_catalog_path(dir())) << nlohmann::json{{"models", {m}}}.dump();
  }

  std::string dir() const { return dir_.string(); }

  fs::path dir_;
  std::string body_;
  PullOptions pull_;
  std::ostringstream out_, err_;
};

TEST_F(ModelsCommandTest, ListShowsEveryModelAndItsState) {
  // A file of the right size (sparse: presence is judged by size) and a
  // partial download.
  const auto tiny = *find_model("tiny.en");
  fs::resize_file((std::ofstream(dir() + "/" + tiny.file_name), dir() + "/" + tiny.file_name),
                  tiny.size_bytes);
  const auto base = *find_model("base.en");
  fs::resize_file((std::ofstream(dir() + "/" + base.file_name + ".part"),
                   dir() + "/" + base.file_name + ".part"),
                  base.size_bytes / 2);

  ASSERT_EQ(run_models_list(out_, err_, dir(), /*json=*/false), kModelsOk);
  const std::string text = out_.str();
  for (const auto& e : builtin_catalog()) EXPECT_NE(text.find(e.name), std::string::npos) << e.name;
  std::istringstream lines(text);
  std::string line;
  bool saw_tiny = false, saw_base = false, saw_small = false;
  while (std::getline(lines, line)) {
    if (line.rfind("tiny.en ", 0) == 0) {
      saw_tiny = true;
      EXPECT_NE(line.find("present"), std::string::npos) << line;
      EXPECT_NE(line.find("77.7 MB"), std::string::npos) << line;
      EXPECT_NE(line.find(dir() + "/ggml-tiny.en.bin"), std::string::npos) << line;
    }
    if (line.rfind("base.en ", 0) == 0) {
      saw_base = true;
      EXPECT_NE(line.find("partial 49%"), std::string::npos) << line;
    }
    if (line.rfind("small.en ", 0) == 0) {
      saw_small = true;
      EXPECT_NE(line.find("missing"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(saw_tiny && saw_base && saw_small) << text;
}

TEST_F(ModelsCommandTest, ListJsonIsMachineReadable) {
  ASSERT_EQ(run_models_list(out_, err_, dir(), /*json=*/true), kModelsOk);
  const auto j = nlohmann::json::parse(out_.str());
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), builtin_catalog().size());
  const auto& first = j.at(0);
  for (const char* key :
       {"name", "kind", "size_bytes", "sha256", "url", "path", "status", "present"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_EQ(first["status"], "missing");
  EXPECT_EQ(first["present"], false);
}

TEST_F(ModelsCommandTest, ListFailsOnABrokenUserCatalogue) {
  std::ofstream(user_catalog_path(dir())) << "{ nope";
  EXPECT_EQ(run_models_list(out_, err_, dir(), false), kModelsFailed);
  EXPECT_NE(err_.str().find("catalog.json"), std::string::npos) << err_.str();
}

TEST_F(ModelsCommandTest, PullUnknownModelListsTheKnownOnes) {
  EXPECT_EQ(run_models_pull("huge-v9", dir(), pull_, out_, err_), kModelsUnknown);
  EXPECT_NE(err_.str().find("unknown model 'huge-v9'"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("base.en"), std::string::npos);
  EXPECT_NE(err_.str().find("qwen2.5-0.5b-instruct-q4_k_m"), std::string::npos);
}

TEST_F(ModelsCommandTest, PullDownloadsWithAProgressBarThenIsANoOp) {
  TestDoubleHttpServer server(body_);
  add_local_model(server);
  ASSERT_EQ(run_models_pull("local-test", dir(), pull_, out_, err_), kModelsOk) << err_.str();
  const std::string path = dir() + "/local-test.gguf";
  EXPECT_EQ(fs::file_size(path), body_.size());
  EXPECT_NE(err_.str().find("Pulling local-test (1.5 MB)"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("local-test: 100% (1.5 MB of 1.5 MB)"), std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("Saved " + path + " (sha256 verified)"), std::string::npos)
      << err_.str();

  std::ostringstream out2, err2;
  ASSERT_EQ(run_models_pull("local-test", dir(), pull_, out2, err2), kModelsOk);
  EXPECT_NE(err2.str().find("already present"), std::string::npos) << err2.str();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(ModelsCommandTest, PullJsonProgressEmitsOneObjectPerLine) {
  TestDoubleHttpServer server(body_);
  add_local_model(server);
  pull_.json_progress = true;
  ASSERT_EQ(run_models_pull("local-test", dir(), pull_, out_, err_), kModelsOk) << err_.str();
  std::istringstream lines(out_.str());
  std::string line;
  std::vector<nlohmann::json> events;
  while (std::getline(lines, line)) events.push_back(nlohmann::json::parse(line));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front()["event"], "progress");
  EXPECT_EQ(events[events.size() - 2]["event"], "progress");
  EXPECT_EQ(events[events.size() - 2]["done"], body_.size());
  EXPECT_EQ(events.back()["event"], "done");
  EXPECT_EQ(events.back()["path"], dir() + "/local-test.gguf");
  EXPECT_EQ(events.back()["verified"], true);
}

TEST_F(ModelsCommandTest, PullFailureExitsOneWithTheReason) {
  TestDoubleHttpServer server(body_);
  add_local_model(server);
  server.script({Fault::kCorrupt});
  pull_.json_progress = true;
  EXPECT_EQ(run_models_pull("local-test", dir(), pull_, out_, err_), kModelsFailed);
  EXPECT_NE(err_.str().find("checksum mismatch"), std::string::npos) << err_.str();
  const std::string last = out_.str().substr(out_.str().rfind('{'));
  const auto j = nlohmann::json::parse(last);
  EXPECT_EQ(j["event"], "error");
  EXPECT_EQ(j["code"], "upstream_failed");
  EXPECT_FALSE(fs::exists(dir() + "/local-test.gguf"));
}

TEST_F(ModelsCommandTest, UnpinnedPullNeedsTheInsecureFlagAndSaysSoLoudly) {
  TestDoubleHttpServer server(body_);
  add_local_model(server, /*pinned=*/false);
  EXPECT_EQ(run_models_pull("local-test", dir(), pull_, out_, err_), kModelsFailed);
  EXPECT_NE(err_.str().find("--insecure-skip-checksum"), std::string::npos) << err_.str();
  EXPECT_TRUE(server.requests().empty());

  std::ostringstream out2, err2;
  pull_.allow_unpinned = true;
  EXPECT_EQ(run_models_pull("local-test", dir(), pull_, out2, err2), kModelsOk) << err2.str();
  EXPECT_NE(err2.str().find("WARNING: checksum not pinned"), std::string::npos) << err2.str();
  EXPECT_NE(err2.str().find("NOT verified"), std::string::npos) << err2.str();
}

}  // namespace
}  // namespace scribepod::models
