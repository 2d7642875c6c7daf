#include "server/routes/etag.h"

#include <gtest/gtest.h>

#include <string>

namespace httpkv::server {
namespace {

TEST(Etag, FormatIsQuotedLowerHex) {
  std::string s = "previous content";
  FormatEtag(0, &s);
  EXPECT_EQ(s, "\"0\"");
  FormatEtag(0x2a, &s);
  EXPECT_EQ(s, "\"2a\"");
  FormatEtag(UINT64_MAX, &s);
  EXPECT_EQ(s, "\"ffffffffffffffff\"");
}

TEST(Etag, SingleTag) {
  EXPECT_TRUE(EtagListMatches("\"2a\"", 42));
  EXPECT_FALSE(EtagListMatches("\"2b\"", 42));
  EXPECT_FALSE(EtagListMatches("\"2A\"", 42));  // opaque-tags compare byte-wise
  EXPECT_FALSE(EtagListMatches("2a", 42));      // unquoted is not our tag
  EXPECT_FALSE(EtagListMatches("\"002a\"", 42));
  EXPECT_FALSE(EtagListMatches("", 42));
}

TEST(Etag, Lists) {
  EXPECT_TRUE(EtagListMatches("\"1\", \"2a\", \"3\"", 42));
  EXPECT_TRUE(EtagListMatches("\"1\",\"2a\"", 42));
  EXPECT_TRUE(EtagListMatches(" \t\"2a\"\t ,\"1\"", 42));
  EXPECT_FALSE(EtagListMatches("\"1\", \"2\", \"3\"", 42));
  EXPECT_TRUE(EtagListMatches(",,\"2a\",", 42));  // empty list elements are ignored
  EXPECT_FALSE(EtagListMatches(",,,", 42));
}

TEST(Etag, WeakPrefixIsIgnored) {
  EXPECT_TRUE(EtagListMatches("W/\"2a\"", 42));
  EXPECT_TRUE(EtagListMatches("\"1\", W/\"2a\"", 42));
  EXPECT_FALSE(EtagListMatches("w/\"2a\"", 42));  // the prefix is case-sensitive
  EXPECT_FALSE(EtagListMatches("W/\"2b\"", 42));
}

TEST(Etag, Star) {
  EXPECT_TRUE(EtagListMatches("*", 1));
  EXPECT_TRUE(EtagListMatches(" * ", 1));
  EXPECT_TRUE(EtagListMatches("\"9\", *", 1));
  EXPECT_FALSE(EtagListMatches("\"*\"", 1));
}

}  // namespace
}  // namespace httpkv::server
