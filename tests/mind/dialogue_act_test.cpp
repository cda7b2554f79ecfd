// The heuristic mind's rules, one at a time: dialogue acts, key phrases and
// speaker cues, on real-sounding transcripts (often without punctuation, as
// speech recognition writes them).
#include "mind/heuristic/dialogue_act.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mind/heuristic/key_phrases.h"
#include "mind/heuristic/speaker_cues.h"
#include "mind/heuristic/text_words.h"

namespace scribepod::mind::heuristic {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TextWords, SplitsLowersAndKeepsApostrophes) {
  EXPECT_THAT(words("Don't STOP, it\xE2\x80\x99s fine! 'quoted'"),
              ElementsAre("don't", "stop", "it's", "fine", "quoted"));
  EXPECT_THAT(words("caf\xC3\xA9 ol\xC3\xA9"), ElementsAre("caf\xC3\xA9", "ol\xC3\xA9"));
  EXPECT_EQ(strip_speaker("  person: hello there "), "hello there");
  EXPECT_EQ(strip_speaker("well, ratio: two to one"), "well, ratio: two to one");
  EXPECT_EQ(words(std::string(100, 'a'))[0].size(), 24U);
}

struct ActCase {
  const char* utterance;
  DialogueAct act;
};

class ActTest : public ::testing::TestWithParam<ActCase> {};

TEST_P(ActTest, Classifies) {
  const auto& c = GetParam();
  EXPECT_EQ(dialogue_act_name(classify_utterance(c.utterance).act), dialogue_act_name(c.act))
      << c.utterance;
}

INSTANTIATE_TEST_SUITE_P(
    Acts, ActTest,
    ::testing::Values(
        // Questions: a question mark, a wh-word or an auxiliary first.
        ActCase{"person: what time does the library open", DialogueAct::kQuestion},
        ActCase{"person: why does my build keep failing", DialogueAct::kQuestion},
        ActCase{"person: so how do I install whisper", DialogueAct::kQuestion},
        ActCase{"person: is it going to rain tomorrow", DialogueAct::kQuestion},
        ActCase{"person: did you see the game last night", DialogueAct::kQuestion},
        ActCase{"person: the meeting is at three?", DialogueAct::kQuestion},
        ActCase{"person: I wonder where my keys went", DialogueAct::kQuestion},
        // Requests: please, can/could/would you, imperatives.
        ActCase{"person: can you tell me a joke", DialogueAct::kRequest},
        ActCase{"person: could you summarize my notes please", DialogueAct::kRequest},
        ActCase{"person: please turn down the music", DialogueAct::kRequest},
        ActCase{"person: tell me about the weather in Paris", DialogueAct::kRequest},
        ActCase{"person: I need you to remind me about the dentist", DialogueAct::kRequest},
        ActCase{"person: um help me with my homework", DialogueAct::kRequest},
        ActCase{"person: go forward ten meters", DialogueAct::kRequest},
        // Greetings, thanks and goodbyes said on their own.
        ActCase{"person: hello", DialogueAct::kGreeting},
        ActCase{"person: hey there how are you", DialogueAct::kGreeting},
        ActCase{"person: hi there how are you doing today", DialogueAct::kGreeting},
        ActCase{"person: how are you going to fix the leak", DialogueAct::kQuestion},
        ActCase{"person: good morning", DialogueAct::kGreeting},
        ActCase{"person: thanks a lot", DialogueAct::kGreeting},
        ActCase{"person: okay bye", DialogueAct::kGreeting},
        // Opinions.
        ActCase{"person: I think remote work is better for focus", DialogueAct::kOpinion},
        ActCase{"person: in my opinion the ending was rushed", DialogueAct::kOpinion},
        ActCase{"person: I love hiking in the mountains", DialogueAct::kOpinion},
        ActCase{"person: that movie was terrible", DialogueAct::kOpinion},
        ActCase{"person: honestly jazz is the best music", DialogueAct::kOpinion},
        // Statements.
        ActCase{"person: I went to the store yesterday", DialogueAct::kStatement},
        ActCase{"person: my sister lives in Berlin", DialogueAct::kStatement},
        ActCase{"person: the train was late again this morning", DialogueAct::kStatement},
        // A long utterance that opens with a greeting is judged by the rest.
        ActCase{"person: hi could you help me plan a trip to Lisbon next month",
                DialogueAct::kRequest}));

TEST(DialogueAct, QuestionKindsAndRequestActions) {
  EXPECT_EQ(classify_utterance("why is the sky blue").question_kind, "why");
  EXPECT_EQ(classify_utterance("what's the plan").question_kind, "what");
  EXPECT_EQ(classify_utterance("are you there").question_kind, "yes-no");
  const auto r = classify_utterance("could you summarize my notes for me please");
  EXPECT_EQ(r.action, "summarize their notes for them");
  EXPECT_EQ(r.reply_action, "summarize your notes for you");
  EXPECT_EQ(classify_utterance("thank you so much").social, Social::kThanks);
  EXPECT_EQ(classify_utterance("goodbye").social, Social::kBye);
  EXPECT_EQ(classify_utterance("hi").social, Social::kHello);
  EXPECT_EQ(classify_utterance("hey how's it going").social, Social::kHowAreYou);
}

TEST(DialogueAct, Sentiment) {
  EXPECT_EQ(classify_utterance("I love this song").sentiment, Sentiment::kPositive);
  EXPECT_EQ(classify_utterance("this is terrible").sentiment, Sentiment::kNegative);
  EXPECT_EQ(classify_utterance("it's not bad").sentiment, Sentiment::kPositive);
  EXPECT_EQ(classify_utterance("I went to work").sentiment, Sentiment::kNeutral);
}

TEST(DialogueAct, EmptyOrOddInputIsAStatement) {
  EXPECT_EQ(classify_utterance("").act, DialogueAct::kStatement);
  EXPECT_EQ(classify_utterance("person:").act, DialogueAct::kStatement);
  EXPECT_EQ(classify_utterance("\xFF\xFE ???").act, DialogueAct::kStatement);
}

TEST(KeyPhrases, FindsTheRecurringTopic) {
  const std::vector<std::string> conversation = {
      "person: I have been learning Spanish for a year",
      "person: my Spanish teacher says my grammar is fine",
      "person: but I still freeze when I speak Spanish with strangers"};
  const auto phrases = key_phrases(conversation, 3);
  ASSERT_FALSE(phrases.empty());
  EXPECT_EQ(phrases[0].text, "spanish");
  EXPECT_EQ(phrases[0].mentions, 3U);
  for (const auto& p : phrases) EXPECT_FALSE(is_stop_word(p.text)) << p.text;
}

TEST(KeyPhrases, KeepsMultiWordPhrasesAndPlurals) {
  const auto phrases = key_phrases(
      {"person: the machine learning course was hard", "person: I like machine learning"}, 3);
  ASSERT_FALSE(phrases.empty());
  EXPECT_EQ(phrases[0].text, "machine learning");
  const auto plural = key_phrases({"person: dogs are great", "person: my dog is called Rex"}, 1);
  ASSERT_EQ(plural.size(), 1U);
  EXPECT_EQ(plural[0].mentions, 2U);
}

TEST(KeyPhrases, NoPhrasesInSmallTalk) {
  EXPECT_TRUE(key_phrases({"person: yeah I mean it is what it is"}).empty());
  EXPECT_TRUE(key_phrases({}).empty());
}

TEST(SpeakerCues, CuriousPoliteFeelingTalkative) {
  auto curious = read_cues({"person: what is a neutron star", "person: how big can they get",
                            "person: why do they spin"});
  EXPECT_EQ(curious.questions, 3U);
  EXPECT_THAT(describe_person(curious), HasSubstr("curious"));
  EXPECT_THAT(describe_person(curious), HasSubstr("asking questions"));

  auto polite = read_cues({"person: could you please check the weather", "person: thank you"});
  EXPECT_EQ(polite.polite, 2U);
  EXPECT_THAT(describe_person(polite), HasSubstr("polite"));

  auto worried = read_cues({"person: I'm really worried about my exam tomorrow"});
  EXPECT_EQ(worried.feeling, "worried");
  EXPECT_THAT(describe_person(worried), HasSubstr("a worried"));
  EXPECT_THAT(describe_person(worried), HasSubstr("open about how they feel"));

  auto excited = read_cues({"person: I feel so excited about the concert"});
  EXPECT_THAT(describe_person(excited), HasSubstr("an enthusiastic"));

  auto opinionated = read_cues(
      {"person: I think tabs are better than spaces", "person: honestly vim is the best editor"});
  EXPECT_THAT(describe_person(opinionated), HasSubstr("opinionated"));

  std::string long_text = "person:";
  for (int i = 0; i < 40; ++i) long_text += " word" + std::to_string(i);
  EXPECT_THAT(describe_person(read_cues({long_text})), HasSubstr("talkative"));

  EXPECT_THAT(describe_person(read_cues({"person: hello"})), HasSubstr("friendly"));
  EXPECT_THAT(describe_person(read_cues({})), HasSubstr("not said anything"));
}

}  // namespace
}  // namespace scribepod::mind::heuristic
