// Speaker cues: simple signs of what kind of person is talking, counted
// over everything they said. How often they ask, request or give opinions;
// politeness words; first-person feelings ("I feel worried", "I'm so
// excited"); how long they talk. describe_person() turns the strongest cues
// into the `person_is` answer ("a curious and polite person who keeps asking
// questions"), completing the original's "this person is a ...".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace scribepod::mind::heuristic {

struct SpeakerCues {
  std::size_t utterances = 0;
  std::size_t questions = 0;
  std::size_t requests = 0;
  std::size_t opinions = 0;
  std::size_t greetings = 0;
  std::size_t polite = 0;  // utterances with please / thanks / sorry ...
  std::size_t words = 0;
  std::string feeling;  // the latest first-person feeling, "" if none
};

SpeakerCues read_cues(const std::vector<std::string>& utterances);

// "a curious and polite person who keeps asking questions".
std::string describe_person(const SpeakerCues& cues);

}  // namespace scribepod::mind::heuristic
