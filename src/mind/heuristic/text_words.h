// Words for the heuristic mind: the small text tools its rules share.
// ASCII letters are lower-cased; other bytes (accented letters, other
// scripts) are kept inside words, so speech in any language yields words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scribepod::mind::heuristic {

// "person: hello there" -> "hello there": drops a short one-word speaker
// label followed by ": ". Other text is returned as is (trimmed).
std::string_view strip_speaker(std::string_view line);

// Lower-cased words; apostrophes inside words are kept ("don't", the
// typographic ’ becomes '), everything else separates words. A word is cut
// at 24 bytes.
std::vector<std::string> words(std::string_view text);

// Common English function words and fillers that never make a topic.
bool is_stop_word(std::string_view word);

// Joins words[begin, end) with single spaces.
std::string join(const std::vector<std::string>& words, std::size_t begin, std::size_t end);

// A stable hash (FNV-1a), to vary templates deterministically.
std::uint64_t stable_hash(std::string_view text);

}  // namespace scribepod::mind::heuristic
