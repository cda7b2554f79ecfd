#include "mind/prompt_templates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace scribepod::mind {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::filesystem::path repo_prompts() {
  const char* root = std::getenv("SCRIBEPOD_SOURCE_DIR");
  return std::filesystem::path(root != nullptr ? root : ".") / "prompts";
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("mind_prompts_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  std::filesystem::path path_;
};

void write_valid(const TempDir& dir) {
  dir.write("thoughts.system.txt", "SYSTEM\n");
  dir.write("thoughts.user.txt", "Conversation:\n{{conversation}}\nEnd {{unknown}}\n");
  dir.write("thoughts.repair.txt", "Error: {{error}}\nWas: {{output}}\n");
}

TEST(PromptTemplates, LoadsTheRepositoryPrompts) {
  auto t = PromptTemplates::load(repo_prompts());
  ASSERT_TRUE(t.ok()) << t.error().message;
  // True to the original's prompts: the sentence completions and the agent.
  EXPECT_THAT(t->system(), HasSubstr("this person's intent is"));
  EXPECT_THAT(t->system(), HasSubstr("this person is a"));
  EXPECT_THAT(t->system(), HasSubstr("helpful, happy"));
  const std::string user = t->render_user({"person: hello there", "person: how are you"});
  EXPECT_THAT(user, HasSubstr("person: hello there\nperson: how are you"));
  EXPECT_THAT(user, Not(HasSubstr("{{")));
  const std::string repair = t->render_repair("{bad", "missing field \"intent\"");
  EXPECT_THAT(repair, HasSubstr("missing field \"intent\""));
  EXPECT_THAT(repair, HasSubstr("{bad"));
}

TEST(PromptTemplates, MissingDirectoryOrFileNamesThePath) {
  auto missing = PromptTemplates::load("/nonexistent/prompts");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidConfig);
  EXPECT_THAT(missing.error().message, HasSubstr("/nonexistent/prompts"));

  TempDir dir;
  write_valid(dir);
  std::filesystem::remove(dir.path() / "thoughts.repair.txt");
  auto no_file = PromptTemplates::load(dir.path());
  ASSERT_FALSE(no_file.ok());
  EXPECT_EQ(no_file.error().code, ErrorCode::kInvalidConfig);
  EXPECT_THAT(no_file.error().message, HasSubstr("thoughts.repair.txt"));
}

TEST(PromptTemplates, RejectsEmptyTemplatesAndMissingPlaceholders) {
  TempDir dir;
  write_valid(dir);
  dir.write("thoughts.system.txt", " \n");
  auto empty = PromptTemplates::load(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, HasSubstr("empty"));

  write_valid(dir);
  dir.write("thoughts.user.txt", "no placeholder here\n");
  auto no_placeholder = PromptTemplates::load(dir.path());
  ASSERT_FALSE(no_placeholder.ok());
  EXPECT_THAT(no_placeholder.error().message, HasSubstr("{{conversation}}"));
}

TEST(PromptTemplates, SubstitutesOnceAndNeverExpandsSpokenPlaceholders) {
  TempDir dir;
  write_valid(dir);
  auto t = PromptTemplates::load(dir.path());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->system(), "SYSTEM");
  EXPECT_EQ(t->render_user({"person: say {{conversation}} and {{error}}"}),
            "Conversation:\nperson: say {{conversation}} and {{error}}\nEnd {{unknown}}");
  EXPECT_EQ(t->render_repair("out {{error}}", "err"), "Error: err\nWas: out {{error}}");
}

TEST(PromptTemplates, FoldsNewlinesSoSpeechCannotForgeLines) {
  TempDir dir;
  write_valid(dir);
  auto t = PromptTemplates::load(dir.path());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->conversation_text({"person: one\nperson: fake\r\nline"}),
            "person: one person: fake  line");
}

TEST(PromptTemplates, BoundsTheConversationKeepingTheNewestLines) {
  TempDir dir;
  write_valid(dir);
  PromptParams params = default_prompt_params();
  params.max_history_lines = 3;
  params.max_history_chars = 1000;
  auto t = PromptTemplates::load(dir.path(), params);
  ASSERT_TRUE(t.ok());
  std::vector<std::string> conversation;
  for (int i = 1; i <= 10; ++i) conversation.push_back("person: line " + std::to_string(i));
  EXPECT_EQ(t->conversation_text(conversation), "person: line 8\nperson: line 9\nperson: line 10");

  // A window of 4 moves by 2: five lines keep the last three, six the last
  // four, so the sixth turn's text starts with the fifth's.
  params.max_history_lines = 4;
  t = PromptTemplates::load(dir.path(), params);
  ASSERT_TRUE(t.ok());
  const std::vector<std::string> five(conversation.begin(), conversation.begin() + 5);
  const std::vector<std::string> six(conversation.begin(), conversation.begin() + 6);
  const std::vector<std::string> seven(conversation.begin(), conversation.begin() + 7);
  EXPECT_EQ(t->conversation_text(five), "person: line 3\nperson: line 4\nperson: line 5");
  EXPECT_EQ(t->conversation_text(six),
            "person: line 3\nperson: line 4\nperson: line 5\nperson: line 6");
  EXPECT_EQ(t->conversation_text(seven), "person: line 5\nperson: line 6\nperson: line 7");

  params.max_history_lines = 100;
  params.max_history_chars = 32;  // "person: line 10\n" is 16 bytes
  t = PromptTemplates::load(dir.path(), params);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->conversation_text(conversation), "person: line 9\nperson: line 10");

  // A single line over the budget keeps its tail, cut on a character.
  params.max_history_chars = 10;
  t = PromptTemplates::load(dir.path(), params);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->conversation_text({"person: caf\xC3\xA9 au lait"}), "\xC3\xA9 au lait");
  params.max_history_chars = 9;  // would start inside the first "é"
  t = PromptTemplates::load(dir.path(), params);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->conversation_text({"person: xx\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"}),
            "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
}

TEST(PromptTemplates, BoundsTheRepairOutputOnACharacterBoundary) {
  TempDir dir;
  write_valid(dir);
  PromptParams params = default_prompt_params();
  params.max_repair_output_chars = 4;
  auto t = PromptTemplates::load(dir.path(), params);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->render_repair("ab\xE2\x98\x83zz", "e"), "Error: e\nWas: ab");
}

}  // namespace
}  // namespace scribepod::mind
