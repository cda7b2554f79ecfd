#include "mind/prompt_templates.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <sstream>
#include <utility>

namespace scribepod::mind {
namespace {

constexpr std::uintmax_t kMaxTemplateBytes = 64 * 1024;

Result<std::string> read_template(const std::filesystem::path& path,
                                  std::initializer_list<std::string_view> required) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error::invalid_config("prompt template not found: " + path.string());
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxTemplateBytes) {
    return Error::invalid_config("prompt template unreadable or over 64 KiB: " + path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid_config("cannot read prompt template: " + path.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Error::invalid_config("prompt template is empty: " + path.string());
  }
  for (std::string_view name : required) {
    if (text.find("{{" + std::string(name) + "}}") == std::string::npos) {
      return Error::invalid_config("prompt template " + path.string() + " lacks {{" +
                                   std::string(name) + "}}");
    }
  }
  // Files end with a newline by convention; the message should not.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// One pass over the template: substituted text is never scanned again.
// Unknown {{names}} stay as written.
std::string substitute(std::string_view tmpl, const std::map<std::string, std::string_view>& vars) {
  std::string out;
  out.reserve(tmpl.size());
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) break;
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(i, open - i));
    const std::string name(tmpl.substr(open + 2, close - open - 2));
    auto it = vars.find(name);
    if (it != vars.end()) {
      out.append(it->second);
    } else {
      out.append(tmpl.substr(open, close + 2 - open));
    }
    i = close + 2;
  }
  out.append(tmpl.substr(i));
  return out;
}

// A transcript line on one line: newlines would let speech forge the prompt's
// structure (a fake "person:" line or instructions below the conversation).
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

// The last `max_bytes` bytes of `s`, starting on a UTF-8 character boundary.
std::string_view tail_bytes(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t start = s.size() - max_bytes;
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0U) == 0x80U) ++start;
  return s.substr(start);
}

}  // namespace

PromptParams default_prompt_params() { return PromptParams{}; }

Result<PromptTemplates> PromptTemplates::load(const std::filesystem::path& dir,
                                              PromptParams params) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error::invalid_config("prompts directory not found: " + dir.string());
  }
  PromptTemplates t;
  auto system = read_template(dir / kSystemFile, {});
  if (!system) return std::move(system).take_error();
  auto user = read_template(dir / kUserFile, {"conversation"});
  if (!user) return std::move(user).take_error();
  auto repair = read_template(dir / kRepairFile, {"error"});
  if (!repair) return std::move(repair).take_error();
  t.system_ = std::move(*system);
  t.user_ = std::move(*user);
  t.repair_ = std::move(*repair);
  if (params.max_history_lines == 0) params.max_history_lines = 1;
  if (params.max_history_chars == 0) params.max_history_chars = 1;
  t.params_ = params;
  return t;
}

std::string PromptTemplates::conversation_text(const std::vector<std::string>& conversation) const {
  // Walk back from the newest line while the budget allows; the newest line
  // is always kept, cut to its tail if it alone is over the budget.
  //
  // Over max_history_lines, the window's first line moves in steps of half
  // the window rather than one line per turn: between steps, each prompt
  // starts with the previous one's conversation, so a model's prompt cache
  // (llm.prompt_cache) evaluates only the new line.
  const std::size_t n = conversation.size();
  const std::size_t max_lines = params_.max_history_lines;
  const std::size_t step = std::max<std::size_t>(1, max_lines / 2);
  const std::size_t first = n <= max_lines ? 0 : (n - max_lines + step - 1) / step * step;
  std::vector<std::string> kept;
  std::size_t used = 0;
  for (auto it = conversation.rbegin(); it != conversation.rend(); ++it) {
    if (static_cast<std::size_t>(conversation.rend() - it) <= first) break;
    std::string line = one_line(*it);
    const std::size_t cost = line.size() + 1;
    if (used + cost > params_.max_history_chars) {
      if (kept.empty()) kept.push_back(std::string(tail_bytes(line, params_.max_history_chars)));
      break;
    }
    used += cost;
    kept.push_back(std::move(line));
  }
  std::string out;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    if (!out.empty()) out += '\n';
    out += *it;
  }
  return out;
}

std::string PromptTemplates::render_user(const std::vector<std::string>& conversation) const {
  const std::string text = conversation_text(conversation);
  return substitute(user_, {{"conversation", text}});
}

std::string PromptTemplates::render_repair(std::string_view bad_output,
                                           std::string_view error) const {
  // Cut on a character boundary: the prompt must stay valid UTF-8.
  std::string_view output = bad_output;
  if (output.size() > params_.max_repair_output_chars) {
    std::size_t end = params_.max_repair_output_chars;
    while (end > 0 && (static_cast<unsigned char>(output[end]) & 0xC0U) == 0x80U) --end;
    output = output.substr(0, end);
  }
  return substitute(repair_, {{"output", output}, {"error", error}});
}

}  // namespace scribepod::mind
