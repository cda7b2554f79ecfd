// `scribepod think` against the real binary: the heuristic engine, the
// llama.cpp engine on a generated GGUF model, and clear failures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace scribepod::testing {
namespace {

TEST(ThinkCli, HeuristicJsonHasTheFiveFieldsAndNamesTheEngine) {
  const CliResult r =
      run_cli({"think", "hello there", "could you help me plan a trip to Lisbon?", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  for (const char* k : {"intent", "person_is", "extra_state", "thoughts", "response"}) {
    EXPECT_FALSE(j.value(k, "").empty()) << k << " in " << r.out;
  }
  EXPECT_EQ(j["engine"], "heuristic");
}

TEST(ThinkCli, ReadsAConversationFileAndPrintsForPeople) {
  TempDir dir;
  const auto file =
      dir.write("conversation.txt", "person: I love sailing\n\nwhat boat should I buy?\n");
  const CliResult r = run_cli({"think", "--file", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("intent:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("heuristic engine"), std::string::npos) << r.out;
}

TEST(ThinkCli, NothingToThinkAboutIsAUsageError) {
  const CliResult r = run_cli({"think"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing to think about"), std::string::npos) << r.err;
}

TEST(ThinkCli, MissingLlamaModelNamesThePathAndThePullCommand) {
  const CliResult r = run_cli(
      {"think", "hello", "--engine", "llama", "--set", "llm.model=/nonexistent/model.gguf"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("models pull"), std::string::npos) << r.err;
}

// The real llama.cpp path end to end on a generated model. Its weights are
// random, so the grammar-constrained output may run out of tokens before the
// JSON closes; the mind must then fail clearly (exit 1 after its one repair
// attempt), never print invalid thoughts. When the output does close, it must
// be schema-valid thoughts from the llama engine.
TEST(ThinkCli, LlamaEngineOnAGeneratedModelRunsAndNeverPrintsInvalidThoughts) {
  TempDir dir;
  const auto model = dir.path() / "tiny.gguf";
  const std::string cmd =
      std::string(SCRIBEPOD_TINY_GGUF_TOOL) + " --arch llama --out '" + model.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const char* source = std::getenv("SCRIBEPOD_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "run under ctest (it sets SCRIBEPOD_SOURCE_DIR)";
  const CliResult r =
      run_cli({"think", "hello, how are you?", "--engine", "llama", "--json", "--set",
               "llm.model=" + model.string(), "--set",
               "mind.prompts_dir=" + std::string(source) + "/prompts", "--set", "llm.threads=1"},
              {}, std::nullopt, 120s);
  if (r.exit_code == 1) {
    EXPECT_NE(r.err.find("did not produce valid thoughts after one repair attempt"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << "nothing may be printed as thoughts: " << r.out;
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["engine"], "llama");
  for (const char* k : {"intent", "person_is", "extra_state", "thoughts", "response"}) {
    ASSERT_TRUE(j[k].is_string()) << k;
    EXPECT_FALSE(j[k].get<std::string>().empty()) << k;
  }
}

}  // namespace
}  // namespace scribepod::testing
