#include "mind/heuristic/key_phrases.h"

#include <algorithm>
#include <map>
#include <set>

#include "mind/heuristic/text_words.h"

namespace scribepod::mind::heuristic {
namespace {

// "languages" and "language" count as one.
std::string normalize(const std::string& w) {
  if (w.size() > 3 && w.back() == 's' && !w.ends_with("ss") && !w.ends_with("us") &&
      !w.ends_with("is")) {
    return w.substr(0, w.size() - 1);
  }
  return w;
}

bool content_word(const std::string& w) {
  if (w.size() < 3 || is_stop_word(w)) return false;
  // A number alone is rarely a topic ("3", "2024" are details).
  return !std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Candidate {
  std::string text;
  std::vector<std::string> parts;  // normalized words
  std::set<std::size_t> utterances;
  std::size_t occurrences = 0;
  double weight = 0;
  bool whole_run = false;  // once spoken as a run of its own, between stop words
};

}  // namespace

std::vector<KeyPhrase> key_phrases(const std::vector<std::string>& utterances,
                                   std::size_t max_phrases) {
  std::map<std::string, Candidate> candidates;
  auto add = [&](const std::vector<std::string>& run, std::size_t begin, std::size_t len,
                 std::size_t utterance, double weight) {
    std::vector<std::string> parts;
    for (std::size_t i = begin; i < begin + len; ++i) parts.push_back(normalize(run[i]));
    std::string key = join(parts, 0, parts.size());
    Candidate& c = candidates[key];
    if (c.text.empty()) {
      c.text = join(run, begin, begin + len);
      c.parts = std::move(parts);
    }
    c.utterances.insert(utterance);
    ++c.occurrences;
    c.whole_run = c.whole_run || len == run.size();
    c.weight += weight * (len == 1 ? 1.0 : len == 2 ? 1.3 : 1.4);
  };

  for (std::size_t u = 0; u < utterances.size(); ++u) {
    const double weight = u + 1 == utterances.size() ? 2.0 : 1.0;
    const std::vector<std::string> ws = words(strip_speaker(utterances[u]));
    std::vector<std::string> run;
    auto flush_run = [&] {
      for (std::size_t i = 0; i < run.size(); ++i) {
        add(run, i, 1, u, weight);
        if (i + 2 <= run.size()) add(run, i, 2, u, weight);
        if (i + 3 <= run.size()) add(run, i, 3, u, weight);
      }
      run.clear();
    };
    for (const auto& w : ws) {
      if (content_word(w)) {
        run.push_back(w);
      } else {
        flush_run();
      }
    }
    flush_run();
  }

  std::vector<KeyPhrase> ranked;
  for (const auto& [key, c] : candidates) {
    // A phrase of several words counts when it recurs or stood alone
    // between stop words ("the machine learning course"); a window cut out
    // of a longer run ("learn machine") said once is noise.
    if (c.parts.size() > 1 && c.occurrences < 2 && !c.whole_run) continue;
    ranked.push_back(
        KeyPhrase{c.text, c.utterances.size(), c.occurrences, *c.utterances.rbegin(), c.weight});
  }
  std::sort(ranked.begin(), ranked.end(), [](const KeyPhrase& a, const KeyPhrase& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.last_utterance != b.last_utterance) return a.last_utterance > b.last_utterance;
    return a.text < b.text;
  });

  std::vector<KeyPhrase> out;
  std::set<std::string> used;
  for (auto& p : ranked) {
    if (out.size() == max_phrases) break;
    bool overlaps = false;
    std::vector<std::string> parts;
    for (const auto& w : words(p.text)) parts.push_back(normalize(w));
    for (const auto& w : parts) overlaps = overlaps || used.count(w) > 0;
    if (overlaps) continue;
    used.insert(parts.begin(), parts.end());
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace scribepod::mind::heuristic
