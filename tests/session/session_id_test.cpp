#include "session/session_id.h"

#include <gtest/gtest.h>

#include <set>

namespace scribepod::session {
namespace {

TEST(SessionId, NewIdsAreCanonicalVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_session_id();
    ASSERT_EQ(id.size(), 36U);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    auto parsed = parse_session_id(id);
    ASSERT_TRUE(parsed.has_value()) << id;
    EXPECT_EQ(*parsed, id);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
  }
}

TEST(SessionId, EveryRandomNibbleVaries) {
  // 122 random bits: across many ids each random hex position takes many
  // values (a constant position would mean a broken generator).
  std::vector<std::set<char>> values(36);
  for (int i = 0; i < 500; ++i) {
    const std::string id = new_session_id();
    for (std::size_t p = 0; p < id.size(); ++p) values[p].insert(id[p]);
  }
  for (std::size_t p = 0; p < 36; ++p) {
    if (p == 8 || p == 13 || p == 18 || p == 23 || p == 14) {
      EXPECT_EQ(values[p].size(), 1U) << p;
    } else if (p == 19) {
      EXPECT_EQ(values[p].size(), 4U);
    } else {
      EXPECT_GE(values[p].size(), 12U) << "position " << p;
    }
  }
}

TEST(SessionId, ParseAcceptsUpperCaseAndCanonicalises) {
  auto id = parse_session_id("3F2B8C1E-9A4D-4C7E-8B1F-0D2E6A5C7B90");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90");
}

TEST(SessionId, ParseRejectsMalformedIds) {
  for (const char* bad : {
           "", "not-a-uuid",
           "3f2b8c1e9a4d4c7e8b1f0d2e6a5c7b90",         // no dashes
           "3f2b8c1e-9a4d-1c7e-8b1f-0d2e6a5c7b90",     // version 1
           "3f2b8c1e-9a4d-4c7e-cb1f-0d2e6a5c7b90",     // wrong variant
           "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b9g",     // not hex
           " 3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90",    // whitespace
           "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b90 ",    //
           "3f2b8c1e-9a4d-4c7e-8b1f-0d2e6a5c7b9",      // short
           "3f2b8c1e-9a4d-4c7e-8b1f_0d2e6a5c7b90",     // wrong separator
           "../../../../etc/passwd-aaaaaaaaaaaaaaaa",  // 36 chars of junk
       }) {
    EXPECT_FALSE(parse_session_id(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace scribepod::session
