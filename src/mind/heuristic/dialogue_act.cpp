#include "mind/heuristic/dialogue_act.h"

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "mind/heuristic/text_words.h"

namespace scribepod::mind::heuristic {
namespace {

using Words = std::vector<std::string>;

bool in(std::string_view w, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

// Whether `ws` has the phrase `phrase` (space-separated) starting at `at`.
bool phrase_at(const Words& ws, std::size_t at, std::string_view phrase) {
  const Words p = words(phrase);
  if (at + p.size() > ws.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (ws[at + i] != p[i]) return false;
  }
  return true;
}

// The index where `phrase` first occurs, or ws.size().
std::size_t find_phrase(const Words& ws, std::string_view phrase) {
  for (std::size_t i = 0; i < ws.size(); ++i) {
    if (phrase_at(ws, i, phrase)) return i;
  }
  return ws.size();
}

bool has_phrase(const Words& ws, std::initializer_list<std::string_view> phrases) {
  for (auto p : phrases) {
    if (find_phrase(ws, p) < ws.size()) return true;
  }
  return false;
}

// Leading fillers and vocatives that do not change the act ("so", "um",
// "hey agent").
std::size_t skip_fillers(const Words& ws) {
  std::size_t i = 0;
  while (i < ws.size() && in(ws[i], {"so", "um", "uh", "well", "okay", "ok", "oh", "and", "but",
                                     "like", "alright", "right", "now", "also"})) {
    ++i;
  }
  return i;
}

// Fillers and an opening greeting ("hi there, could you ..."): what follows
// decides the act of a longer utterance.
std::size_t skip_openers(const Words& ws) {
  std::size_t i = skip_fillers(ws);
  if (i < ws.size() && in(ws[i], {"hi", "hello", "hey", "hiya", "yo"})) {
    ++i;
    if (i < ws.size() && ws[i] == "there") ++i;
    while (i < ws.size() && in(ws[i], {"so", "um", "uh", "well", "okay", "ok", "oh"})) ++i;
  }
  return i;
}

Social social_move(const Words& ws) {
  const std::size_t start = skip_fillers(ws);
  if (start >= ws.size()) return Social::kNone;
  // Only a short utterance is a greeting; "hi, can you help me with my
  // taxes" is a request that starts politely.
  const std::size_t content = ws.size() - start;
  // "how are you (doing today)", but not "how are you going to fix it".
  for (std::string_view phrase :
       {"how are you", "how's it going", "how is it going", "how have you been", "what's up",
        "how do you do", "how's your day", "how is your day"}) {
    const std::size_t at = find_phrase(ws, phrase);
    if (at == ws.size() || content > 9) continue;
    bool only_small_talk_after = true;
    for (std::size_t i = at + words(phrase).size(); i < ws.size(); ++i) {
      only_small_talk_after =
          only_small_talk_after && in(ws[i], {"doing", "today", "tonight", "this", "morning",
                                              "evening", "there", "friend", "buddy", "going"});
    }
    if (only_small_talk_after) return Social::kHowAreYou;
  }
  if (content > 6) return Social::kNone;
  if (has_phrase(ws, {"thank you", "thanks", "cheers", "much appreciated", "appreciate it"})) {
    return Social::kThanks;
  }
  if (has_phrase(
          ws, {"bye", "goodbye", "good bye", "see you", "see ya", "good night", "talk to you later",
               "take care", "that's all", "i have to go", "i gotta go", "gotta go"})) {
    return Social::kBye;
  }
  if (in(ws[start], {"hi", "hello", "hey", "hiya", "howdy", "greetings", "yo", "morning", "evening",
                     "afternoon"}) ||
      phrase_at(ws, start, "good morning") || phrase_at(ws, start, "good afternoon") ||
      phrase_at(ws, start, "good evening") || phrase_at(ws, start, "nice to meet you")) {
    return Social::kHello;
  }
  return Social::kNone;
}

// The speaker's first person turned into the third (for the intent) or the
// second (for a reply); the agent's "you" becomes "me" in the reply.
std::string turn_around(const Words& ws, std::size_t begin, bool to_second_person) {
  struct Swap {
    std::string_view from, third, second;
  };
  static constexpr Swap kSwaps[] = {
      {"me", "them", "you"},         {"my", "their", "your"},
      {"mine", "theirs", "yours"},   {"myself", "themselves", "yourself"},
      {"i", "they", "you"},          {"i'm", "they're", "you're"},
      {"i've", "they've", "you've"}, {"us", "them", "you"},
      {"our", "their", "your"},      {"you", "the agent", "me"},
      {"your", "the agent's", "my"}, {"yourself", "itself", "myself"},
  };
  constexpr std::size_t kMaxWords = 8;  // an intent is a phrase, not a transcript
  Words out;
  for (std::size_t i = begin; i < ws.size() && out.size() < kMaxWords; ++i) {
    const std::string& w = ws[i];
    if (w == "please") continue;
    std::string word = w;
    for (const auto& s : kSwaps) {
      if (w == s.from) word = std::string(to_second_person ? s.second : s.third);
    }
    out.push_back(std::move(word));
  }
  return join(out, 0, out.size());
}

// Returns the index where the requested action begins, or ws.size() when
// the utterance is not a request.
std::size_t request_start(const Words& ws) {
  const std::size_t s = skip_openers(ws);
  for (std::string_view lead :
       {"can you", "could you", "would you", "will you", "can u", "would you mind",
        "could you please", "can you please", "i need you to", "i want you to", "i'd like you to",
        "i would like you to", "do you mind", "i'd like to ask you to"}) {
    if (phrase_at(ws, s, lead)) {
      std::size_t at = s + words(lead).size();
      if (at < ws.size() && ws[at] == "please") ++at;
      return at;
    }
  }
  if (s < ws.size() && ws[s] == "please") return s + 1;
  // Imperative openings.
  if (s < ws.size() &&
      in(ws[s],
         {"tell",    "show",      "give",      "explain", "help",      "describe", "find",
          "remind",  "summarize", "summarise", "list",    "write",     "make",     "play",
          "send",    "call",      "open",      "read",    "translate", "check",    "recommend",
          "suggest", "teach",     "let",       "go",      "turn",      "move",     "bring",
          "take",    "put",       "set",       "stop",    "start",     "wait"})) {
    // "let me know", "let's ..." are requests too; "let it be" is rare.
    return s;
  }
  const std::size_t please = find_phrase(ws, "please");
  if (please < ws.size()) return please + 1 < ws.size() ? please + 1 : s;
  return ws.size();
}

std::string question_kind(const Words& ws, bool question_mark) {
  const std::size_t s = skip_openers(ws);
  if (s < ws.size()) {
    std::string first = ws[s];
    if (first == "what's") first = "what";
    if (first == "how's") first = "how";
    if (first == "where's") first = "where";
    if (first == "who's") first = "who";
    if (in(first, {"what", "why", "how", "when", "where", "who", "which", "whose", "whom"})) {
      return first;
    }
    if (in(first,
           {"is",    "are",      "am",        "was",   "were",     "do",      "does",    "did",
            "can",   "could",    "would",     "will",  "should",   "shall",   "may",     "might",
            "have",  "has",      "had",       "isn't", "aren't",   "don't",   "doesn't", "didn't",
            "won't", "wouldn't", "shouldn't", "can't", "couldn't", "haven't", "hasn't"})) {
      return "yes-no";
    }
  }
  if (has_phrase(ws, {"i wonder", "i'm wondering", "i was wondering", "i'm curious", "do you know",
                      "any idea"})) {
    for (const auto& w : ws) {
      if (in(w, {"what", "why", "how", "when", "where", "who", "which"})) return w;
    }
    return "yes-no";
  }
  if (question_mark) {
    for (const auto& w : ws) {
      if (in(w, {"what", "why", "how", "when", "where", "who", "which"})) return w;
    }
    return "yes-no";
  }
  return "";
}

Sentiment sentiment_of(const Words& ws) {
  int score = 0;
  for (std::size_t i = 0; i < ws.size(); ++i) {
    const std::string& w = ws[i];
    const bool negated = i > 0 && in(ws[i - 1], {"not", "don't", "didn't", "isn't", "wasn't",
                                                 "never", "no", "doesn't", "aren't"});
    int v = 0;
    if (in(w, {"love",     "loved",     "like",      "liked",     "enjoy",       "enjoyed",
               "great",    "amazing",   "awesome",   "wonderful", "fantastic",   "excellent",
               "best",     "beautiful", "happy",     "glad",      "excited",     "fun",
               "nice",     "cool",      "brilliant", "perfect",   "interesting", "delicious",
               "favorite", "favourite", "better",    "proud",     "grateful"})) {
      v = 1;
    } else if (in(w, {"hate",      "hated",    "dislike", "terrible", "awful",        "horrible",
                      "worst",     "bad",      "boring",  "annoying", "annoyed",      "angry",
                      "sad",       "upset",    "worried", "anxious",  "frustrated",   "frustrating",
                      "tired",     "stressed", "scared",  "afraid",   "disappointed", "overrated",
                      "broken",    "worse",    "ugly",    "sucks",    "lonely",       "confused",
                      "difficult", "hard",     "problem", "fails",    "failing"})) {
      v = -1;
    }
    score += negated ? -v : v;
  }
  if (score > 0) return Sentiment::kPositive;
  if (score < 0) return Sentiment::kNegative;
  return Sentiment::kNeutral;
}

bool is_opinion(const Words& ws) {
  if (has_phrase(ws,
                 {"i think",       "i feel",       "i believe",  "in my opinion",  "i guess",
                  "to me",         "personally",   "i reckon",   "it seems to me", "i'd say",
                  "i would say",   "my view",      "i suppose",  "i love",         "i hate",
                  "i like",        "i don't like", "i prefer",   "i enjoy",        "i can't stand",
                  "i'm not a fan", "i'm a fan",    "i disagree", "i agree",        "honestly"})) {
    return true;
  }
  // "<something> is great / overrated / the best ..."
  for (std::size_t i = 0; i + 1 < ws.size(); ++i) {
    if (in(ws[i], {"is", "are", "was", "were", "it's", "that's"}) &&
        in(ws[i + 1],
           {"great", "amazing", "awesome", "terrible", "awful", "overrated", "underrated",
            "wonderful", "horrible", "brilliant", "best", "worst", "beautiful", "boring",
            "fantastic", "ridiculous", "stupid", "better", "worse"})) {
      return true;
    }
    if (in(ws[i], {"is", "are", "was", "were", "it's", "that's"}) && ws[i + 1] == "the" &&
        i + 2 < ws.size() && in(ws[i + 2], {"best", "worst"})) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view dialogue_act_name(DialogueAct act) {
  switch (act) {
    case DialogueAct::kQuestion:
      return "question";
    case DialogueAct::kRequest:
      return "request";
    case DialogueAct::kGreeting:
      return "greeting";
    case DialogueAct::kOpinion:
      return "opinion";
    case DialogueAct::kStatement:
      return "statement";
  }
  return "statement";
}

ActAnalysis classify_utterance(std::string_view utterance) {
  const std::string_view text = strip_speaker(utterance);
  const Words ws = words(text);
  ActAnalysis a;
  a.sentiment = sentiment_of(ws);
  if (ws.empty()) return a;

  a.social = social_move(ws);
  if (a.social != Social::kNone) {
    a.act = DialogueAct::kGreeting;
    return a;
  }
  const std::size_t req = request_start(ws);
  if (req < ws.size()) {
    a.act = DialogueAct::kRequest;
    a.action = turn_around(ws, req, /*to_second_person=*/false);
    a.reply_action = turn_around(ws, req, /*to_second_person=*/true);
    return a;
  }
  const bool question_mark = text.find('?') != std::string_view::npos;
  a.question_kind = question_kind(ws, question_mark);
  if (!a.question_kind.empty()) {
    a.act = DialogueAct::kQuestion;
    return a;
  }
  if (is_opinion(ws)) {
    a.act = DialogueAct::kOpinion;
    return a;
  }
  return a;
}

}  // namespace scribepod::mind::heuristic
