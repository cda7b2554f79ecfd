// Word error rate: how far a recognised text is from a reference, counted in
// words. Both texts are normalised the same way first (lower case, every
// character that is not a letter, digit or in-word apostrophe becomes a space),
// then aligned with a Levenshtein distance over words. WER = (substitutions +
// deletions + insertions) / reference words. Used by the recogniser tests and
// the benchmarks, so a number quoted anywhere in the project means the same
// thing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scribepod::asr {

struct WordErrors {
  std::size_t substitutions = 0;
  std::size_t deletions = 0;
  std::size_t insertions = 0;
  std::size_t reference_words = 0;

  std::size_t errors() const { return substitutions + deletions + insertions; }
  // errors / reference words; 0 for an empty reference matched by an empty
  // hypothesis, 1 per inserted word when the reference is empty.
  double rate() const;
  // Sums counts, so a corpus WER is total errors over total reference words.
  WordErrors& operator+=(const WordErrors& other);
};

// "Hello, World! It's 5 o'clock." -> {"hello", "world", "it's", "5", "o'clock"}.
std::vector<std::string> normalize_words(std::string_view text);

// Aligns normalize_words(hypothesis) against normalize_words(reference).
WordErrors word_errors(std::string_view reference, std::string_view hypothesis);

}  // namespace scribepod::asr
