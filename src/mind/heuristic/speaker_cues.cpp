#include "mind/heuristic/speaker_cues.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "mind/heuristic/dialogue_act.h"
#include "mind/heuristic/text_words.h"

namespace scribepod::mind::heuristic {
namespace {

struct Feeling {
  std::string_view word;
  std::string_view adjective;  // how the person comes across
};

// A feeling word said about oneself, and the adjective for the person.
constexpr Feeling kFeelings[] = {
    {"worried", "worried"},       {"anxious", "anxious"},       {"nervous", "nervous"},
    {"scared", "uneasy"},         {"afraid", "uneasy"},         {"stressed", "stressed"},
    {"overwhelmed", "stretched"}, {"frustrated", "frustrated"}, {"annoyed", "frustrated"},
    {"angry", "upset"},           {"upset", "upset"},           {"sad", "downhearted"},
    {"lonely", "lonely"},         {"tired", "tired"},           {"exhausted", "tired"},
    {"bored", "restless"},        {"confused", "puzzled"},      {"lost", "puzzled"},
    {"excited", "enthusiastic"},  {"thrilled", "enthusiastic"}, {"happy", "cheerful"},
    {"glad", "cheerful"},         {"great", "upbeat"},          {"proud", "proud"},
    {"grateful", "grateful"},     {"curious", "curious"},       {"hopeful", "hopeful"},
    {"relieved", "relieved"},
};

bool in(std::string_view w, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

// "i feel X", "i'm (so|really|very|a bit) X", "i am X", "feeling X".
std::string feeling_in(const std::vector<std::string>& ws) {
  std::string found;
  for (std::size_t i = 0; i < ws.size(); ++i) {
    std::size_t at = ws.size();
    if (ws[i] == "i'm" || ws[i] == "feeling" || ws[i] == "im") {
      at = i + 1;
    } else if (ws[i] == "i" && i + 1 < ws.size() && in(ws[i + 1], {"am", "feel", "was"})) {
      at = i + 2;
    }
    while (at < ws.size() && in(ws[at], {"so", "really", "very", "a", "bit", "little", "kind", "of",
                                         "quite", "pretty", "feeling", "kinda", "super"})) {
      ++at;
    }
    if (at >= ws.size()) continue;
    for (const auto& f : kFeelings) {
      if (ws[at] == f.word) found = std::string(f.adjective);
    }
  }
  return found;
}

std::string article_for(std::string_view word) {
  return (!word.empty() && in(word.substr(0, 1), {"a", "e", "i", "o", "u"})) ? "an" : "a";
}

}  // namespace

SpeakerCues read_cues(const std::vector<std::string>& utterances) {
  SpeakerCues c;
  for (const auto& u : utterances) {
    const std::vector<std::string> ws = words(strip_speaker(u));
    if (ws.empty()) continue;
    ++c.utterances;
    c.words += ws.size();
    switch (classify_utterance(u).act) {
      case DialogueAct::kQuestion:
        ++c.questions;
        break;
      case DialogueAct::kRequest:
        ++c.requests;
        break;
      case DialogueAct::kOpinion:
        ++c.opinions;
        break;
      case DialogueAct::kGreeting:
        ++c.greetings;
        break;
      case DialogueAct::kStatement:
        break;
    }
    const bool polite = std::any_of(ws.begin(), ws.end(), [](const std::string& w) {
      return in(w, {"please", "thanks", "thank", "sorry", "appreciate", "kindly", "pardon"});
    });
    if (polite) ++c.polite;
    std::string feeling = feeling_in(ws);
    if (!feeling.empty()) c.feeling = std::move(feeling);
  }
  return c;
}

std::string describe_person(const SpeakerCues& c) {
  if (c.utterances == 0) return "a quiet person who has not said anything yet";
  std::vector<std::string> adjectives;
  std::string who;
  auto cue = [&](std::string adjective, std::string clause) {
    if (std::find(adjectives.begin(), adjectives.end(), adjective) != adjectives.end()) return;
    if (adjectives.size() < 2) adjectives.push_back(std::move(adjective));
    if (who.empty()) who = std::move(clause);
  };
  const double avg_words = static_cast<double>(c.words) / static_cast<double>(c.utterances);

  if (!c.feeling.empty()) cue(c.feeling, "is open about how they feel");
  if (c.questions >= 2 && c.questions * 2 >= c.utterances) cue("curious", "keeps asking questions");
  if (c.opinions >= 2 && c.opinions * 2 >= c.utterances) {
    cue("opinionated", "is not shy about their views");
  } else if (c.opinions >= 1 && c.opinions * 2 >= c.utterances) {
    cue("thoughtful", "shares their own view of things");
  }
  if (c.requests >= 1 && c.requests * 2 >= c.utterances) cue("practical", "knows what they want");
  if (c.polite >= 1) cue("polite", "minds their manners");
  if (c.greetings == c.utterances) cue("friendly", "keeps things warm and sociable");
  if (avg_words > 25) {
    cue("talkative", "explains things in detail");
  } else if (avg_words < 4 && c.utterances >= 2) {
    cue("brief", "keeps it short");
  }
  if (c.questions == 1 && c.utterances == 1) cue("inquisitive", "wants to know something");

  if (adjectives.empty()) return "an engaged person who is sharing what is on their mind";
  std::string out = article_for(adjectives[0]) + " " + adjectives[0];
  if (adjectives.size() > 1) out += " and " + adjectives[1];
  out += " person who " + who;
  return out;
}

}  // namespace scribepod::mind::heuristic
