#include "mind/heuristic/heuristic_thoughts.h"

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "mind/heuristic/dialogue_act.h"
#include "mind/heuristic/key_phrases.h"
#include "mind/heuristic/speaker_cues.h"
#include "mind/heuristic/text_words.h"
#include "telemetry/service_metrics.h"

namespace scribepod::mind {
namespace {

using heuristic::ActAnalysis;
using heuristic::DialogueAct;
using heuristic::KeyPhrase;
using heuristic::Sentiment;
using heuristic::Social;

// What a listener might think of when a subject comes up. Small on purpose:
// enough for the everyday subjects people talk about, nothing encyclopaedic.
struct Association {
  std::vector<std::string_view>
      triggers;  // not an initializer_list: its array would not outlive the table
  std::string_view thought;
};

const std::vector<Association>& associations() {
  static const std::vector<Association> table = {
      {{"music", "song", "songs", "band", "album", "guitar", "piano", "concert", "singer",
        "playlist"},
       "music tends to carry memories of a particular time and place"},
      {{"food", "cook", "cooking", "dinner", "lunch", "breakfast", "recipe", "restaurant", "pizza",
        "coffee", "tea", "meal", "eat", "eating"},
       "food is rarely just food; it is comfort, culture and company"},
      {{"work", "job", "boss", "meeting", "meetings", "project", "deadline", "office", "career",
        "colleague", "colleagues", "manager", "team"},
       "stories about work are often really about time, pressure and recognition"},
      {{"code", "coding", "bug", "bugs", "software", "program", "programming", "app", "deploy",
        "deployment", "server", "computer", "python", "javascript", "database", "api", "build",
        "compiler", "linux"},
       "a stubborn technical problem usually hides one small wrong assumption"},
      {{"travel", "trip", "flight", "vacation", "holiday", "city", "country", "visit", "hotel",
        "beach", "abroad"},
       "a trip is as much about the anticipation as about the place itself"},
      {{"health", "sick", "doctor", "pain", "sleep", "exercise", "gym", "running", "diet",
        "hospital", "headache"},
       "the body keeps score of how we have been living lately"},
      {{"family", "mom", "mother", "dad", "father", "kids", "children", "son", "daughter", "wife",
        "husband", "partner", "friend", "friends", "brother", "sister", "parents"},
       "the people closest to us shape most of our days"},
      {{"learn", "learning", "study", "studying", "school", "class", "course", "exam", "university",
        "teacher", "homework", "college"},
       "learning something new is equal parts frustration and small victories"},
      {{"weather", "rain", "raining", "sunny", "snow", "cold", "hot", "summer", "winter", "autumn",
        "spring"},
       "the weather quietly sets the mood of a whole day"},
      {{"money", "pay", "price", "cost", "rent", "budget", "salary", "buy", "expensive", "bills",
        "savings"},
       "questions about money are usually questions about security and choices"},
      {{"movie", "movies", "film", "show", "series", "book", "books", "novel", "reading", "game",
        "games", "podcast", "story"},
       "the stories we choose say something about what we are looking for"},
      {{"football", "soccer", "basketball", "tennis", "match", "sport", "sports", "league",
        "season"},
       "following a sport is a way of belonging to something bigger"},
      {{"ai", "model", "models", "robot", "robots", "agent", "neural", "intelligence", "chatgpt",
        "llm", "machine"},
       "talking with a machine about machines is a curious kind of mirror"},
      {{"dog", "cat", "pet", "pets", "garden", "nature", "park", "walk", "hike", "hiking",
        "animals", "outdoors"},
       "time outdoors or with animals tends to slow people down in a good way"},
  };
  return table;
}

std::string_view association_for(const std::vector<std::string>& conversation_words) {
  // The subject mentioned most often wins; ties go to the table's order.
  std::string_view best;
  std::size_t best_count = 0;
  for (const auto& a : associations()) {
    std::size_t count = 0;
    for (const auto& w : conversation_words) {
      if (std::find(a.triggers.begin(), a.triggers.end(), w) != a.triggers.end()) ++count;
    }
    if (count > best_count) {
      best = a.thought;
      best_count = count;
    }
  }
  return best;
}

std::string pick(std::span<const std::string_view> options, std::uint64_t hash) {
  return std::string(options[hash % options.size()]);
}

std::string fill(std::string text, std::string_view name, std::string_view value) {
  const std::string key = "{" + std::string(name) + "}";
  for (std::size_t at = text.find(key); at != std::string::npos;
       at = text.find(key, at + value.size())) {
    text.replace(at, key.size(), value);
  }
  return text;
}

// A topic as the speaker framed it: "my python build" reads as "their
// python build" in the intent and "your python build" in the reply.
struct Topic {
  std::string third;   // for intent and thoughts
  std::string second;  // for the response
};

Topic frame_topic(const std::string& phrase, const std::vector<std::string>& said) {
  if (phrase.empty()) return {};
  struct Determiner {
    std::string_view spoken, third, second;
  };
  // Not "your": whose it is would be a guess ("your country" in a quote).
  static constexpr Determiner kDeterminers[] = {
      {"the", "the", "the"},       {"my", "their", "your"},  {"our", "their", "your"},
      {"this", "this", "this"},    {"that", "that", "that"}, {"these", "these", "these"},
      {"those", "those", "those"}, {"his", "his", "his"},    {"her", "her", "her"},
      {"their", "their", "their"},
  };
  const std::string first = heuristic::words(phrase).front();
  for (std::size_t i = 1; i < said.size(); ++i) {
    if (said[i] != first) continue;
    for (const auto& d : kDeterminers) {
      if (said[i - 1] == d.spoken) {
        return {std::string(d.third) + " " + phrase, std::string(d.second) + " " + phrase};
      }
    }
    break;
  }
  return {phrase, phrase};
}

std::string intent_for(const ActAnalysis& a, const std::string& topic) {
  switch (a.act) {
    case DialogueAct::kGreeting:
      if (a.social == Social::kThanks) return "to thank the agent";
      if (a.social == Social::kBye) return "to wrap up the conversation and say goodbye";
      if (a.social == Social::kHowAreYou) return "to greet the agent and ask how it is doing";
      return "to greet the agent and open the conversation";
    case DialogueAct::kRequest:
      if (!a.action.empty()) return "to get the agent to " + a.action;
      return topic.empty() ? "to get help" : "to get help with " + topic;
    case DialogueAct::kQuestion: {
      if (topic.empty()) return "to get an answer to their question";
      if (a.question_kind == "why") return "to understand the reasons behind " + topic;
      if (a.question_kind == "how") return "to find out how to go about " + topic;
      if (a.question_kind == "when") return "to find out when something happens with " + topic;
      if (a.question_kind == "where") return "to find out where to look for " + topic;
      if (a.question_kind == "who") return "to find out who is involved in " + topic;
      if (a.question_kind == "which") return "to choose between options for " + topic;
      if (a.question_kind == "yes-no") return "to get a yes-or-no answer about " + topic;
      return "to find out more about " + topic;
    }
    case DialogueAct::kOpinion:
      if (a.sentiment == Sentiment::kPositive) {
        return topic.empty() ? "to share their enthusiasm"
                             : "to share their enthusiasm for " + topic;
      }
      if (a.sentiment == Sentiment::kNegative) {
        return topic.empty() ? "to voice their frustration"
                             : "to voice their frustration with " + topic;
      }
      return topic.empty() ? "to share their point of view" : "to share their view on " + topic;
    case DialogueAct::kStatement:
      if (a.sentiment == Sentiment::kNegative) {
        return topic.empty() ? "to talk about something that is weighing on them"
                             : "to talk about a difficulty with " + topic;
      }
      return topic.empty() ? "to tell the agent what is on their mind"
                           : "to tell the agent about " + topic;
  }
  return "to talk";
}

std::string response_for(const ActAnalysis& a, const std::string& topic, std::uint64_t hash) {
  const std::string subject = topic.empty() ? "that" : topic;
  std::string text;
  switch (a.act) {
    case DialogueAct::kGreeting: {
      static constexpr std::string_view kHello[] = {
          "Hello! It's good to hear from you. What's on your mind today?",
          "Hi there! I'm listening. What would you like to talk about?"};
      static constexpr std::string_view kThanks[] = {
          "You're very welcome! Is there anything else you'd like to talk about?",
          "Happy to help! What else is on your mind?"};
      static constexpr std::string_view kBye[] = {
          "Goodbye! It was lovely talking with you. Come back any time.",
          "Take care! I really enjoyed our conversation."};
      static constexpr std::string_view kHowAreYou[] = {
          "I'm doing well, thanks for asking! How about you? How is your day going?",
          "I'm great, thank you! It's nice to hear from you. How are you doing?"};
      if (a.social == Social::kThanks) return pick(kThanks, hash);
      if (a.social == Social::kHowAreYou) return pick(kHowAreYou, hash);
      if (a.social == Social::kBye) return pick(kBye, hash);
      return pick(kHello, hash);
    }
    case DialogueAct::kRequest: {
      static constexpr std::string_view kWithAction[] = {
          "Happy to help! You'd like me to {action}. Could you tell me a little more about what "
          "you need?",
          "Sure thing. To {action}, it helps to know a bit more: what matters most to you "
          "here?"};
      static constexpr std::string_view kBare[] = {
          "I'd be glad to help with {subject}. What would you like me to do first?"};
      text = a.reply_action.empty() ? pick(kBare, hash) : pick(kWithAction, hash);
      text = fill(text, "action", a.reply_action);
      break;
    }
    case DialogueAct::kQuestion: {
      static constexpr std::string_view kWhy[] = {
          "That's a good question. There could be a few reasons behind {subject}. What have you "
          "noticed so far?",
          "Good question. Often there is more than one cause with {subject}. What's your own "
          "guess?"};
      static constexpr std::string_view kHow[] = {
          "Good question! Let's think through {subject} step by step. What have you tried so "
          "far?",
          "That's worth figuring out together. What do you already know about {subject}?"};
      static constexpr std::string_view kYesNo[] = {
          "Good question. It may depend on the details of {subject}. Which way are you "
          "leaning?",
          "That's a fair thing to ask about {subject}. What would you expect the answer to be?"};
      static constexpr std::string_view kOther[] = {
          "That's a really good question about {subject}. What have you found out so far?",
          "Good question! I'd love to dig into {subject} with you. What made you curious about "
          "it?"};
      if (a.question_kind == "why") {
        text = pick(kWhy, hash);
      } else if (a.question_kind == "how") {
        text = pick(kHow, hash);
      } else if (a.question_kind == "yes-no") {
        text = pick(kYesNo, hash);
      } else {
        text = pick(kOther, hash);
      }
      break;
    }
    case DialogueAct::kOpinion: {
      static constexpr std::string_view kPositive[] = {
          "It sounds like you really enjoy {subject}! What do you love most about it?",
          "I can hear your enthusiasm for {subject}. What got you into it?"};
      static constexpr std::string_view kNegative[] = {
          "It sounds like {subject} really bothers you. What would make it better?",
          "That sounds frustrating. What about {subject} gets to you the most?"};
      static constexpr std::string_view kNeutral[] = {
          "That's an interesting take on {subject}. What led you to see it that way?",
          "I appreciate you sharing your view on {subject}. Has your opinion changed over time?"};
      if (a.sentiment == Sentiment::kPositive) {
        text = pick(kPositive, hash);
      } else if (a.sentiment == Sentiment::kNegative) {
        text = pick(kNegative, hash);
      } else {
        text = pick(kNeutral, hash);
      }
      break;
    }
    case DialogueAct::kStatement: {
      static constexpr std::string_view kNegative[] = {
          "That sounds hard. Do you want to tell me more about {subject}?",
          "I'm sorry to hear that. How are you holding up with {subject}?"};
      static constexpr std::string_view kPositive[] = {
          "That sounds great! Tell me more about {subject}.",
          "Oh, nice! What's the best part about {subject} for you?"};
      static constexpr std::string_view kNeutral[] = {
          "I see. Tell me more about {subject}.", "Interesting! What happened next with {subject}?",
          "Got it. How do you feel about {subject}?"};
      if (a.sentiment == Sentiment::kNegative) {
        text = pick(kNegative, hash);
      } else if (a.sentiment == Sentiment::kPositive) {
        text = pick(kPositive, hash);
      } else {
        text = pick(kNeutral, hash);
      }
      break;
    }
  }
  return fill(text, "subject", subject);
}

std::string thoughts_for(const std::vector<KeyPhrase>& phrases,
                         const std::vector<std::string>& conversation_words, const ActAnalysis& a) {
  const std::string_view association = association_for(conversation_words);
  if (a.act == DialogueAct::kGreeting) {
    const std::string after = phrases.empty() ? "" : " after talking about " + phrases[0].text;
    if (a.social == Social::kBye) {
      return "They are wrapping up" + after + ". I hope the conversation was worth their time.";
    }
    if (a.social == Social::kThanks) {
      return "It is nice to be thanked" + after + ". I wonder whether it really helped them.";
    }
    if (phrases.empty()) return "A new voice. I wonder what they will want to talk about.";
  }
  if (phrases.empty()) {
    return "There is not much to go on yet; I'm curious where this is heading.";
  }
  const std::string& topic = phrases[0].text;
  std::string out;
  if (!association.empty()) {
    out = "Thinking about " + topic + ": " + std::string(association) + ".";
  } else {
    out = "Their mind seems to be on " + topic + "; I wonder what brought it up.";
  }
  if (phrases.size() > 1) {
    out += " I wonder how " + phrases[1].text + " connects to " + topic + " for them.";
  }
  return out;
}

std::string extra_state_for(const std::vector<KeyPhrase>& phrases,
                            const heuristic::SpeakerCues& cues) {
  if (!phrases.empty() && phrases[0].mentions >= 2 && cues.utterances >= 2) {
    return "They keep coming back to " + phrases[0].text + " (" +
           std::to_string(phrases[0].mentions) + " of their " + std::to_string(cues.utterances) +
           " utterances mention it).";
  }
  if (!cues.feeling.empty()) return "They sound " + cues.feeling + " right now.";
  if (cues.utterances <= 1) {
    return "The conversation has just started: this is the first thing they have said.";
  }
  std::string out = "They have spoken " + std::to_string(cues.utterances) + " times, about " +
                    std::to_string(cues.words) + " words in all";
  if (!phrases.empty()) out += ", most recently about " + phrases[0].text;
  return out + ".";
}

}  // namespace

HeuristicParams default_heuristic_params() { return HeuristicParams{}; }

HeuristicThoughts::HeuristicThoughts(HeuristicParams params) : params_(params) {
  if (params_.max_key_phrases == 0) params_.max_key_phrases = 1;
}

std::string HeuristicThoughts::describe() const {
  return "heuristic thoughts (rules: dialogue acts, key phrases, speaker cues; no language model)";
}

Result<Thoughts> HeuristicThoughts::think(const ThinkRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> said;
  for (const auto& line : request.conversation) {
    if (!heuristic::strip_speaker(line).empty()) said.push_back(line);
  }
  if (said.empty()) return Error::bad_request("the conversation is empty: nothing to think about");

  const std::string& last = said.back();
  const ActAnalysis act = heuristic::classify_utterance(last);
  const auto phrases = heuristic::key_phrases(said, params_.max_key_phrases);
  // The latest utterance's own subject leads the intent and the reply; the
  // conversation's main subject leads the associations.
  const auto last_phrases = heuristic::key_phrases({last}, 1);
  const Topic topic = frame_topic(last_phrases.empty() ? std::string() : last_phrases[0].text,
                                  heuristic::words(heuristic::strip_speaker(last)));
  const auto cues = heuristic::read_cues(said);
  std::vector<std::string> all_words;
  for (const auto& line : said) {
    for (auto& w : heuristic::words(heuristic::strip_speaker(line))) all_words.push_back(w);
  }
  std::string joined;
  for (const auto& line : said) joined += line + "\n";
  const std::uint64_t hash = heuristic::stable_hash(joined);

  Thoughts t;
  t.intent = intent_for(act, topic.third);
  t.person_is = heuristic::describe_person(cues);
  t.extra_state = extra_state_for(phrases, cues);
  t.thoughts = thoughts_for(phrases, all_words, act);
  t.response = response_for(act, topic.second, hash);
  t.engine = "heuristic";
  if (request.on_response) request.on_response(t.response);
  t.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  metrics::observe_thoughts(t.engine, t.latency_ms / 1000.0);
  return t;
}

}  // namespace scribepod::mind
