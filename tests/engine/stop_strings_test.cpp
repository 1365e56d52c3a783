#include "engine/stop_strings.h"

#include <gtest/gtest.h>

namespace mobilellm::engine {
namespace {

TEST(StopStrings, NoStopsPassesEverything) {
  StopStrings s({});
  EXPECT_EQ(s.push("abc"), "abc");
  EXPECT_FALSE(s.matched());
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, MatchAcrossPieces) {
  StopStrings s({"END"});
  EXPECT_EQ(s.push("hello E"), "hello ");  // "E" may begin END
  EXPECT_EQ(s.push("N"), "");
  EXPECT_EQ(s.push("D tail"), "");
  EXPECT_TRUE(s.matched());
  EXPECT_EQ(s.push("more"), "");
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, FalseStartIsReleased) {
  StopStrings s({"END"});
  EXPECT_EQ(s.push("E"), "");
  EXPECT_EQ(s.push("NX"), "ENX");
  EXPECT_EQ(s.push("EN"), "");
  EXPECT_FALSE(s.matched());
  EXPECT_EQ(s.flush(), "EN");
}

TEST(StopStrings, EarliestOfSeveral) {
  StopStrings s({"bb", "a"});
  EXPECT_EQ(s.push("xbbya"), "x");
  EXPECT_TRUE(s.matched());
}

TEST(StopStrings, EmptyStopIsIgnored) {
  StopStrings s({""});
  EXPECT_EQ(s.push("abc"), "abc");
  EXPECT_FALSE(s.matched());
}

}  // namespace
}  // namespace mobilellm::engine
