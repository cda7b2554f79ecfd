// Dialogue acts: what an utterance does, judged by rules that work on speech
// transcripts (which often lack punctuation), for the heuristic mind.
//
//   greeting   hello / good morning / thanks / bye, said on its own
//   request    please, can you / could you / would you, I need you to,
//              an imperative opening (tell me, show me, explain, help)
//   question   a "?" or a wh-word or auxiliary first (what, why, is, do, can)
//   opinion    I think / I feel / I believe / in my opinion, evaluative
//              words about something (I love, I hate, is great, is awful)
//   statement  everything else
//
// Requests are tested before questions, because "can you tell me the time"
// asks for an action, not for a yes or no.
#pragma once

#include <string>
#include <string_view>

namespace scribepod::mind::heuristic {

enum class DialogueAct { kQuestion, kRequest, kGreeting, kOpinion, kStatement };
std::string_view dialogue_act_name(DialogueAct act);  // "question", ...

enum class Social { kNone, kHello, kHowAreYou, kThanks, kBye };
enum class Sentiment { kNeutral, kPositive, kNegative };

struct ActAnalysis {
  DialogueAct act = DialogueAct::kStatement;
  // kQuestion: the wh-word ("what", "why", "how", ...) or "yes-no".
  std::string question_kind;
  // kGreeting: which social move.
  Social social = Social::kNone;
  // kRequest: what they want done, from their point of view turned around
  // ("summarize my notes" -> "summarize their notes"); may be "".
  std::string action;
  // The same action addressed back to the speaker, for a reply
  // ("summarize my notes" -> "summarize your notes").
  std::string reply_action;
  // The utterance's overall tone (opinion words, feelings).
  Sentiment sentiment = Sentiment::kNeutral;
};

ActAnalysis classify_utterance(std::string_view utterance);

}  // namespace scribepod::mind::heuristic
