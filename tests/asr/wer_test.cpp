#include "asr/wer.h"

#include <gtest/gtest.h>

namespace scribepod::asr {
namespace {

TEST(NormalizeWords, LowercasesAndStripsPunctuation) {
  EXPECT_EQ(normalize_words("Hello, World!  It's 5 o'clock."),
            (std::vector<std::string>{"hello", "world", "it's", "5", "o'clock"}));
}

TEST(NormalizeWords, HyphensAndQuotesSplitWords) {
  EXPECT_EQ(normalize_words("cold-hearted 'quoted' rock'n'roll"),
            (std::vector<std::string>{"cold", "hearted", "quoted", "rock'n'roll"}));
}

TEST(NormalizeWords, EmptyAndPunctuationOnly) {
  EXPECT_TRUE(normalize_words("").empty());
  EXPECT_TRUE(normalize_words(" ... !? -- ").empty());
}

TEST(NormalizeWords, KeepsUtf8Letters) {
  EXPECT_EQ(normalize_words("Café, naïve."), (std::vector<std::string>{"café", "naïve"}));
}

TEST(WordErrors, IdenticalTextsHaveNoErrors) {
  const auto e = word_errors("go forward ten meters", "Go forward, ten meters.");
  EXPECT_EQ(e.errors(), 0U);
  EXPECT_EQ(e.reference_words, 4U);
  EXPECT_DOUBLE_EQ(e.rate(), 0.0);
}

TEST(WordErrors, CountsSubstitutionDeletionInsertion) {
  // two->too (S), "four" deleted (D), "seven" inserted (I); any other
  // alignment costs more.
  const auto e = word_errors("one two three four five six", "one too three five six seven");
  EXPECT_EQ(e.substitutions, 1U);
  EXPECT_EQ(e.deletions, 1U);
  EXPECT_EQ(e.insertions, 1U);
  EXPECT_EQ(e.reference_words, 6U);
  EXPECT_DOUBLE_EQ(e.rate(), 0.5);
}

TEST(WordErrors, EmptyHypothesisDeletesEverything) {
  const auto e = word_errors("two nine three four zero", "");
  EXPECT_EQ(e.deletions, 5U);
  EXPECT_DOUBLE_EQ(e.rate(), 1.0);
}

TEST(WordErrors, EmptyReference) {
  EXPECT_DOUBLE_EQ(word_errors("", "").rate(), 0.0);
  const auto e = word_errors("", "thank you");
  EXPECT_EQ(e.insertions, 2U);
  EXPECT_DOUBLE_EQ(e.rate(), 2.0);
}

TEST(WordErrors, RateCanExceedOne) { EXPECT_DOUBLE_EQ(word_errors("yes", "no no no").rate(), 3.0); }

TEST(WordErrors, AlignsShiftedSequencesCheaply) {
  // One insertion at the front must not be counted as n substitutions.
  const auto e = word_errors("a b c d e f", "x a b c d e f");
  EXPECT_EQ(e.errors(), 1U);
  EXPECT_EQ(e.insertions, 1U);
}

TEST(WordErrors, SumsIntoACorpusRate) {
  WordErrors total;
  total += word_errors("a b c d", "a b c d");      // 0 / 4
  total += word_errors("e f g h i j", "e x g h");  // 1 S + 2 D = 3 / 6
  EXPECT_EQ(total.errors(), 3U);
  EXPECT_EQ(total.reference_words, 10U);
  EXPECT_DOUBLE_EQ(total.rate(), 0.3);
}

}  // namespace
}  // namespace scribepod::asr
