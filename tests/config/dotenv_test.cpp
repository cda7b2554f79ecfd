#include "config/dotenv.h"

#include <gtest/gtest.h>

#include <string>

namespace scribepod::config {
namespace {

using Vars = std::map<std::string, std::string>;

Vars parse_ok(std::string_view text) {
  auto result = parse_dotenv(text);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : Vars{};
}

std::string parse_error(std::string_view text) {
  auto result = parse_dotenv(text);
  EXPECT_FALSE(result.ok()) << "parsed: " << text;
  if (result.ok()) return {};
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidConfig);
  return result.error().message;
}

TEST(Dotenv, EmptyTextHasNoVariables) {
  EXPECT_TRUE(parse_ok("").empty());
  EXPECT_TRUE(parse_ok("\n\n  \n\t\n").empty());
}

TEST(Dotenv, PlainAssignments) {
  const Vars vars = parse_ok("A=1\nB=two\nlower_case=x\n_U=y");
  EXPECT_EQ(vars, (Vars{{"A", "1"}, {"B", "two"}, {"lower_case", "x"}, {"_U", "y"}}));
}

TEST(Dotenv, TheGuidesExampleFile) {
  const Vars vars = parse_ok(
      "# Server Configuration\n"
      "NODE_ENV=development\n"
      "REASON_SERVER_HOST=0.0.0.0\n"
      "REASON_SERVER_PORT=4200\n"
      "\n"
      "# Security\n"
      "API_KEY=your-secret-key-change-in-production\n"
      "CORS_ALLOWED_ORIGINS=http://localhost:3000,http://localhost:4200\n");
  EXPECT_EQ(vars.at("NODE_ENV"), "development");
  EXPECT_EQ(vars.at("REASON_SERVER_PORT"), "4200");
  EXPECT_EQ(vars.at("API_KEY"), "your-secret-key-change-in-production");
  EXPECT_EQ(vars.at("CORS_ALLOWED_ORIGINS"), "http://localhost:3000,http://localhost:4200");
  EXPECT_EQ(vars.size(), 5u);
}

TEST(Dotenv, WhitespaceIsTrimmed) {
  const Vars vars = parse_ok("  A = spaced value  \n\tB\t=\tx\t\nC=  lead");
  EXPECT_EQ(vars.at("A"), "spaced value");
  EXPECT_EQ(vars.at("B"), "x");
  EXPECT_EQ(vars.at("C"), "lead");
}

TEST(Dotenv, ExportPrefixIsIgnored) {
  const Vars vars = parse_ok("export A=1\nexport   B=2\n\texport\tC=3");
  EXPECT_EQ(vars, (Vars{{"A", "1"}, {"B", "2"}, {"C", "3"}}));
}

TEST(Dotenv, ExportCanBeAVariableName) {
  EXPECT_EQ(parse_ok("export=1").at("export"), "1");
  EXPECT_EQ(parse_ok("exported=1").at("exported"), "1");
  EXPECT_EQ(parse_ok("export export=2").at("export"), "2");
}

TEST(Dotenv, EmptyValues) {
  const Vars vars = parse_ok("A=\nB=''\nC=\"\"\nD=   \nE= # only a comment");
  EXPECT_EQ(vars, (Vars{{"A", ""}, {"B", ""}, {"C", ""}, {"D", ""}, {"E", ""}}));
}

TEST(Dotenv, Comments) {
  const Vars vars = parse_ok(
      "# full line\n"
      "   # indented full line\n"
      "A=value # trailing comment\n"
      "B=value\t# tab before hash\n"
      "C=a#b\n"
      "D=#notacomment\n"
      "E='quoted # kept' # comment\n"
      "F=\"dq # kept\"   # comment\n");
  EXPECT_EQ(vars.at("A"), "value");
  EXPECT_EQ(vars.at("B"), "value");
  EXPECT_EQ(vars.at("C"), "a#b");
  EXPECT_EQ(vars.at("D"), "#notacomment");
  EXPECT_EQ(vars.at("E"), "quoted # kept");
  EXPECT_EQ(vars.at("F"), "dq # kept");
  EXPECT_EQ(vars.size(), 6u);
}

TEST(Dotenv, SingleQuotesAreLiteral) {
  const Vars vars = parse_ok(R"(A='a \n b \" $HOME ${X}'
B='  spaces kept  '
C='say "hi"')");
  EXPECT_EQ(vars.at("A"), R"(a \n b \" $HOME ${X})");
  EXPECT_EQ(vars.at("B"), "  spaces kept  ");
  EXPECT_EQ(vars.at("C"), "say \"hi\"");
}

TEST(Dotenv, DoubleQuotesUnderstandEscapes) {
  const Vars vars = parse_ok(R"(A="line1\nline2"
B="quote \" inside"
C="back\\slash"
D="tab\there\r"
E="C:\dir\file"
F="it's"
G="  spaces kept  ")");
  EXPECT_EQ(vars.at("A"), "line1\nline2");
  EXPECT_EQ(vars.at("B"), "quote \" inside");
  EXPECT_EQ(vars.at("C"), "back\\slash");
  EXPECT_EQ(vars.at("D"), "tab\there\r");
  EXPECT_EQ(vars.at("E"), R"(C:\dir\file)");  // unknown escapes stay as written
  EXPECT_EQ(vars.at("F"), "it's");
  EXPECT_EQ(vars.at("G"), "  spaces kept  ");
}

TEST(Dotenv, NoVariableExpansion) {
  const Vars vars = parse_ok("A=1\nB=$A\nC=${A}\nD=\"$A\"");
  EXPECT_EQ(vars.at("B"), "$A");
  EXPECT_EQ(vars.at("C"), "${A}");
  EXPECT_EQ(vars.at("D"), "$A");
}

TEST(Dotenv, CrlfLineEnds) {
  const Vars vars = parse_ok("A=1\r\nB='two'\r\nC=\"3\"\r\n# c\r\n\r\nD=x # y\r\n");
  EXPECT_EQ(vars, (Vars{{"A", "1"}, {"B", "two"}, {"C", "3"}, {"D", "x"}}));
}

TEST(Dotenv, Utf8ByteOrderMarkIsSkipped) {
  const std::string text = std::string("\xEF\xBB\xBF") + "A=1";
  EXPECT_EQ(parse_ok(text).at("A"), "1");
}

TEST(Dotenv, Utf8ValuesArePreserved) {
  EXPECT_EQ(parse_ok("A=caf\xC3\xA9").at("A"), "caf\xC3\xA9");
}

TEST(Dotenv, LaterAssignmentWins) { EXPECT_EQ(parse_ok("A=1\nA=2\n").at("A"), "2"); }

TEST(Dotenv, ValueMayContainEqualsSigns) {
  EXPECT_EQ(parse_ok("A=b=c==").at("A"), "b=c==");
  EXPECT_EQ(parse_ok("TOKEN=abc==  # base64").at("TOKEN"), "abc==");
}

TEST(Dotenv, LastLineWithoutNewline) { EXPECT_EQ(parse_ok("A=1\nB=2").at("B"), "2"); }

TEST(Dotenv, MissingEqualsIsAnErrorWithLineNumber) {
  EXPECT_EQ(parse_error("A=1\n\nJUSTAWORD\n"), "line 3: expected KEY=value, found no '='");
  EXPECT_EQ(parse_error("A value"), "line 1: expected KEY=value, found no '='");
  EXPECT_EQ(parse_error("export A"), "line 1: expected KEY=value, found no '='");
}

TEST(Dotenv, InvalidKeysAreErrors) {
  EXPECT_EQ(parse_error("A-B=1"),
            "line 1: invalid character in variable name (expected KEY=value)");
  EXPECT_EQ(parse_error("A.B=1"),
            "line 1: invalid character in variable name (expected KEY=value)");
  EXPECT_EQ(parse_error("=1"), "line 1: missing variable name before '='");
  EXPECT_EQ(parse_error("# ok\n1A=1"), "line 2: variable name must not start with a digit");
  EXPECT_EQ(parse_error("K\xC3\xA9Y=1"),
            "line 1: invalid character in variable name (expected KEY=value)");
}

TEST(Dotenv, UnterminatedQuotesAreErrors) {
  EXPECT_EQ(parse_error("A='open"), "line 1: unterminated single quote");
  EXPECT_EQ(parse_error("A=1\nB=\"open"), "line 2: unterminated double quote");
  EXPECT_EQ(parse_error("A=\"escaped end\\\""), "line 1: unterminated double quote");
  EXPECT_EQ(parse_error("A=\"ends in backslash\\"), "line 1: unterminated double quote");
  // A quoted value does not continue onto the next line.
  EXPECT_EQ(parse_error("A=\"first\nsecond\""), "line 1: unterminated double quote");
}

TEST(Dotenv, TextAfterClosingQuoteIsAnError) {
  EXPECT_EQ(parse_error("A='x'y"), "line 1: unexpected text after the closing quote");
  EXPECT_EQ(parse_error("A=\"x\" y"), "line 1: unexpected text after the closing quote");
}

TEST(Dotenv, NulBytesAreRejected) {
  EXPECT_EQ(parse_error(std::string_view("A=1\nB=x\0y\n", 10)), "line 2: NUL byte");
}

TEST(Dotenv, OversizedTextIsRejected) {
  std::string big = "A=";
  big.append(kMaxDotenvBytes, 'x');
  EXPECT_NE(parse_error(big).find("larger than"), std::string::npos);

  std::string just_fits = "A=";
  just_fits.append(kMaxDotenvBytes - just_fits.size(), 'x');
  EXPECT_EQ(parse_ok(just_fits).at("A").size(), kMaxDotenvBytes - 2);
}

TEST(Dotenv, ManyLines) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "K" + std::to_string(i) + "=" + std::to_string(i) + "\n";
  const Vars vars = parse_ok(text);
  ASSERT_EQ(vars.size(), 1000u);
  EXPECT_EQ(vars.at("K999"), "999");
}

}  // namespace
}  // namespace scribepod::config
