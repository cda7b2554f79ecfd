#include "mind/heuristic/text_words.h"

#include <algorithm>
#include <array>

namespace scribepod::mind::heuristic {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Sorted, for binary search. Besides function words it holds common verbs,
// evaluative adjectives and time words: they carry the act or the tone, not
// the topic ("I love jazz" is about jazz).
constexpr std::array<std::string_view, 319> kStopWords = {
    "a",          "about",      "actually",    "after",      "again",     "ah",         "all",
    "also",       "am",         "amazing",     "an",         "and",       "any",        "anyone",
    "anything",   "appreciate", "appreciated", "are",        "aren't",    "around",     "as",
    "ask",        "asked",      "asking",      "at",         "ate",       "awesome",    "awful",
    "bad",        "be",         "because",     "been",       "before",    "being",      "believe",
    "best",       "better",     "both",        "bought",     "but",       "by",         "bye",
    "call",       "called",     "came",        "can",        "can't",     "come",       "comes",
    "cool",       "could",      "couldn't",    "definitely", "did",       "didn't",     "do",
    "does",       "doesn't",    "doing",       "don't",      "done",      "down",       "each",
    "else",       "enjoy",      "enjoyed",     "even",       "ever",      "every",      "everyone",
    "everything", "fail",       "failed",      "failing",    "fails",     "feel",       "feels",
    "felt",       "few",        "find",        "fine",       "for",       "found",      "from",
    "gave",       "get",        "gets",        "getting",    "give",      "go",         "goes",
    "going",      "gonna",      "good",        "goodbye",    "got",       "great",      "guess",
    "guys",       "had",        "happen",      "happened",   "happens",   "has",        "hate",
    "hated",      "have",       "having",      "he",         "he's",      "hello",      "helpful",
    "her",        "here",       "hers",        "herself",    "hey",       "hi",         "him",
    "himself",    "his",        "honestly",    "how",        "i",         "i'd",        "i'll",
    "i'm",        "i've",       "if",          "in",         "into",      "is",         "isn't",
    "it",         "it's",       "its",         "itself",     "just",      "keep",       "keeps",
    "kept",       "kind",       "know",        "last",       "lately",    "learn",      "let",
    "let's",      "like",       "look",        "looked",     "looking",   "looks",      "lot",
    "love",       "loved",      "made",        "make",       "many",      "maybe",      "me",
    "mean",       "more",       "most",        "much",       "my",        "need",       "needed",
    "needs",      "next",       "nice",        "no",         "not",       "nothing",    "now",
    "of",         "off",        "oh",          "ok",         "okay",      "on",         "one",
    "only",       "or",         "other",       "our",        "ourselves", "out",        "over",
    "please",     "prefer",     "pretty",      "probably",   "put",       "really",     "right",
    "said",       "say",        "saying",      "says",       "see",       "seem",       "seemed",
    "seems",      "she",        "she's",       "should",     "so",        "some",       "somebody",
    "someone",    "something",  "sorry",       "sort",       "speak",     "spoke",      "spoken",
    "start",      "started",    "starting",    "starts",     "still",     "stop",       "stopped",
    "stops",      "such",       "sure",        "take",       "takes",     "talk",       "talked",
    "talking",    "tell",       "telling",     "terrible",   "than",      "thank",      "thanks",
    "that",       "that's",     "the",         "their",      "them",      "themselves", "then",
    "there",      "there's",    "these",       "they",       "they're",   "they've",    "thing",
    "things",     "think",      "thinking",    "this",       "those",     "thought",    "through",
    "to",         "today",      "told",        "tomorrow",   "too",       "took",       "totally",
    "tried",      "tries",      "try",         "trying",     "uh",        "um",         "up",
    "us",         "use",        "used",        "uses",       "using",     "very",       "want",
    "wanted",     "wants",      "was",         "wasn't",     "way",       "we",         "we're",
    "we've",      "wear",       "week",        "welcome",    "well",      "went",       "were",
    "what",       "what's",     "when",        "where",      "which",     "while",      "who",
    "why",        "will",       "with",        "wonder",     "wondering", "wore",       "worse",
    "worst",      "would",      "yeah",        "yes",        "yesterday", "you",        "you're",
    "you've",     "your",       "yours",       "yourself",
};

// Length of the valid UTF-8 character starting at text[i] (lead >= 0x80),
// or 0 when the bytes there are not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return n;
}

}  // namespace

std::string_view strip_speaker(std::string_view line) {
  while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0 && colon <= 24 &&
      line.substr(0, colon).find(' ') == std::string_view::npos) {
    line.remove_prefix(colon + 1);
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  }
  return line;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  // Words are capped (on a character boundary) so that no utterance can
  // make an answer overrun the schema's limits.
  constexpr std::size_t kMaxWordBytes = 24;
  auto flush = [&] {
    if (current.size() > kMaxWordBytes) {
      std::size_t end = kMaxWordBytes;
      while (end > 0 && (static_cast<unsigned char>(current[end]) & 0xC0U) == 0x80U) --end;
      current.resize(end);
    }
    while (!current.empty() && current.back() == '\'') current.pop_back();
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 'A' && c <= 'Z') {
      current += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      current += static_cast<char>(c);
    } else if (c == '\'') {
      if (!current.empty()) current += '\'';
    } else if (c == 0xE2 && i + 2 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               static_cast<unsigned char>(text[i + 2]) == 0x99) {
      if (!current.empty()) current += '\'';  // U+2019 right single quotation mark
      i += 2;
    } else if (c >= 0x80) {
      // A whole valid UTF-8 character is part of a word; an invalid byte
      // separates words, so no word (and no answer built from words)
      // carries invalid UTF-8.
      const std::size_t n = utf8_length(text, i);
      if (n == 0) {
        flush();
      } else {
        current.append(text.substr(i, n));
        i += n - 1;
      }
    } else {
      flush();
    }
  }
  flush();
  return out;
}

bool is_stop_word(std::string_view word) {
  return std::binary_search(kStopWords.begin(), kStopWords.end(), word);
}

std::string join(const std::vector<std::string>& ws, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end && i < ws.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += ws[i];
  }
  return out;
}

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace scribepod::mind::heuristic
