// Key phrases: what a conversation is about, by frequency of its content
// words. Stop words split the text into runs; each content word is a
// candidate, and so is a phrase of two or three words that recurs or forms
// a whole run. Candidates score by how often they occur (the latest
// utterance counts double, phrases a little more than single words),
// plurals count with their singular, and the ranking never
// returns two phrases that share a word. Deterministic: ties go to the more
// recent, then to the alphabetically first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace scribepod::mind::heuristic {

struct KeyPhrase {
  std::string text;          // as first spoken, lower case: "machine learning"
  std::size_t mentions = 0;  // utterances that contain it
  std::size_t occurrences = 0;
  std::size_t last_utterance = 0;  // index of the latest utterance with it
  double score = 0;
};

// `utterances` oldest first, speaker labels allowed ("person: ...").
std::vector<KeyPhrase> key_phrases(const std::vector<std::string>& utterances,
                                   std::size_t max_phrases = 5);

}  // namespace scribepod::mind::heuristic
