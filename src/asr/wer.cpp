#include "asr/wer.h"

#include <algorithm>

namespace scribepod::asr {

namespace {

bool is_word_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

unsigned char to_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

}  // namespace

double WordErrors::rate() const {
  if (reference_words == 0) return static_cast<double>(errors());
  return static_cast<double>(errors()) / static_cast<double>(reference_words);
}

WordErrors& WordErrors::operator+=(const WordErrors& other) {
  substitutions += other.substitutions;
  deletions += other.deletions;
  insertions += other.insertions;
  reference_words += other.reference_words;
  return *this;
}

std::vector<std::string> normalize_words(std::string_view text) {
  // Bytes >= 0x80 (UTF-8 letters) are kept as word characters so accented
  // words stay whole; ASCII punctuation splits words. An apostrophe counts only
  // between two word characters ("it's", not "'quoted'").
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = to_lower(static_cast<unsigned char>(text[i]));
    if (is_word_char(c) || c >= 0x80) {
      current.push_back(static_cast<char>(c));
    } else if (c == '\'' && !current.empty() && i + 1 < text.size() &&
               (is_word_char(to_lower(static_cast<unsigned char>(text[i + 1]))) ||
                static_cast<unsigned char>(text[i + 1]) >= 0x80)) {
      current.push_back('\'');
    } else {
      flush();
    }
  }
  flush();
  return words;
}

WordErrors word_errors(std::string_view reference, std::string_view hypothesis) {
  const auto ref = normalize_words(reference);
  const auto hyp = normalize_words(hypothesis);
  // Dynamic programme over (reference prefix, hypothesis prefix); each cell
  // keeps the cheapest edit and its breakdown so the counts come out without
  // a backtrace. Ties prefer substitution, then deletion, then insertion.
  struct Cell {
    std::size_t cost = 0;
    std::size_t sub = 0;
    std::size_t del = 0;
    std::size_t ins = 0;
  };
  std::vector<Cell> prev(hyp.size() + 1);
  std::vector<Cell> cur(hyp.size() + 1);
  for (std::size_t j = 0; j <= hyp.size(); ++j) prev[j] = {j, 0, 0, j};
  for (std::size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = {i, 0, i, 0};
    for (std::size_t j = 1; j <= hyp.size(); ++j) {
      Cell diag = prev[j - 1];
      if (ref[i - 1] != hyp[j - 1]) {
        ++diag.cost;
        ++diag.sub;
      }
      Cell del = prev[j];
      ++del.cost;
      ++del.del;
      Cell ins = cur[j - 1];
      ++ins.cost;
      ++ins.ins;
      Cell best = diag;
      if (del.cost < best.cost) best = del;
      if (ins.cost < best.cost) best = ins;
      cur[j] = best;
    }
    std::swap(prev, cur);
  }
  const Cell& end = prev[hyp.size()];
  WordErrors out;
  out.substitutions = end.sub;
  out.deletions = end.del;
  out.insertions = end.ins;
  out.reference_words = ref.size();
  return out;
}

}  // namespace scribepod::asr
