// PromptTemplates: the words the mind says to a language model, loaded from
// editable files so they can be tuned without a rebuild. The files are the
// single source: there are no compiled-in defaults, and a missing or empty
// file fails loading with kInvalidConfig naming the path.
//
// A directory holds three UTF-8 text files:
//   thoughts.system.txt  the system message (who the agent is, the five
//                        fields, answer with JSON only)
//   thoughts.user.txt    the user message; must contain {{conversation}}
//   thoughts.repair.txt  sent after an invalid answer; must contain
//                        {{error}} and may contain {{output}}
//
// Rendering substitutes each {{name}} of the template once, in one pass, so
// text from a speaker or a model that happens to contain "{{...}}" is never
// expanded. The conversation is bounded to the most recent lines, at most
// `max_history_lines` of them and `max_history_chars` bytes, so a long
// conversation still fits the model's context. Past max_history_lines the
// window's start moves in steps of half the window (so it holds between
// half and all of max_history_lines): consecutive prompts then share their
// beginning, which a model's prompt cache reuses. Immutable once loaded;
// safe to share between threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::mind {

struct PromptParams {
  std::size_t max_history_lines = 20;    // mind.max_history_lines
  std::size_t max_history_chars = 4000;  // mind.max_history_chars (bytes)
  std::size_t max_repair_output_chars = 2000;
};
PromptParams default_prompt_params();

class PromptTemplates {
 public:
  static constexpr std::string_view kSystemFile = "thoughts.system.txt";
  static constexpr std::string_view kUserFile = "thoughts.user.txt";
  static constexpr std::string_view kRepairFile = "thoughts.repair.txt";

  static Result<PromptTemplates> load(const std::filesystem::path& dir,
                                      PromptParams params = default_prompt_params());

  const std::string& system() const { return system_; }
  // The user message for `conversation` ("person: ..." lines, oldest first).
  std::string render_user(const std::vector<std::string>& conversation) const;
  // The follow-up message after an invalid answer.
  std::string render_repair(std::string_view bad_output, std::string_view error) const;
  // The bounded conversation as it appears in the prompt, one line each.
  std::string conversation_text(const std::vector<std::string>& conversation) const;

  const PromptParams& params() const { return params_; }

 private:
  PromptTemplates() = default;

  std::string system_;
  std::string user_;
  std::string repair_;
  PromptParams params_;
};

}  // namespace scribepod::mind
