#include "core/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace scribepod {
namespace {

std::string as_json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonTextTest, EscapesSpecialCharacters) {
  EXPECT_EQ(as_json("a\"b\\c\nd\te\r"), R"("a\"b\\c\nd\te\r")");
  EXPECT_EQ(as_json(std::string_view("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
}

TEST(JsonTextTest, KeepsValidUtf8AndReplacesInvalid) {
  EXPECT_EQ(as_json("héllo €𝄞"), "\"héllo €𝄞\"");
  EXPECT_EQ(as_json("\xff"), R"("\ufffd")");
  EXPECT_EQ(as_json("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong
  EXPECT_EQ(as_json("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
  EXPECT_EQ(as_json("\xe2\x82"), R"("\ufffd\ufffd")");            // truncated
}

TEST(JsonTextTest, OutputAlwaysParses) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const auto parsed = nlohmann::json::parse(as_json(all));
  EXPECT_TRUE(parsed.is_string());
}

}  // namespace
}  // namespace scribepod
