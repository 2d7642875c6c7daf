// The key:value line format of `httpkv import` / `httpkv export` and the JSON listing
// export reads.
#include "tools/client/pair_file.h"

#include <gtest/gtest.h>

#include <string>

namespace httpkv::client {
namespace {

TEST(PairLine, SplitsAtTheFirstColon) {
  std::string_view key, value;
  std::string error;
  ASSERT_TRUE(ParsePairLine("1:test1", &key, &value, &error));
  EXPECT_EQ(key, "1");
  EXPECT_EQ(value, "test1");
  ASSERT_TRUE(ParsePairLine("url:http://h:80/?a=b\r", &key, &value, &error));  // CRLF file
  EXPECT_EQ(key, "url");
  EXPECT_EQ(value, "http://h:80/?a=b");
  ASSERT_TRUE(ParsePairLine("k:", &key, &value, &error));
  EXPECT_EQ(value, "");
  ASSERT_TRUE(ParsePairLine(std::string(1024, 'k') + ":v", &key, &value, &error));
}

TEST(PairLine, RejectsWhatSpecsKeyRulesRefuse) {
  std::string_view key, value;
  std::string error;
  const std::pair<std::string, std::string_view> cases[] = {
      {"", "empty line"},
      {"\r", "empty line"},
      {"novalue", "no ':' between key and value"},
      {":v", "empty key"},
      {std::string(1025, 'k') + ":v", "key longer than 1024 bytes"},
      {"a\tb:v", "key contains a control character"},
      {std::string("a\0b:v", 5), "key contains a control character"},
  };
  for (const auto& [line, reason] : cases) {
    EXPECT_FALSE(ParsePairLine(line, &key, &value, &error)) << line;
    EXPECT_EQ(error, reason) << line;
  }
}

TEST(PairLine, AppendRefusesPairsALineCannotHold) {
  std::string out, error;
  EXPECT_TRUE(AppendPairLine("k", "v:w", &out, &error));
  EXPECT_EQ(out, "k:v:w\n");
  EXPECT_FALSE(AppendPairLine("a:b", "v", &out, &error));
  EXPECT_EQ(error, "key contains ':'");
  EXPECT_FALSE(AppendPairLine("k", "a\nb", &out, &error));
  EXPECT_FALSE(AppendPairLine("k", "a\r", &out, &error));
  EXPECT_EQ(error, "value contains a line break");
  EXPECT_EQ(out, "k:v:w\n");
}

TEST(JsonListing, ParsesTheServersEscapes) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string error;
  ASSERT_TRUE(ParseJsonListing("{}\n", &pairs, &error));
  EXPECT_TRUE(pairs.empty());
  ASSERT_TRUE(ParseJsonListing(R"({"a":"1","q\"b\\":"x\ny\r\tz","c\u0001":"\u00e9\u20ac\/","caf)"
                               "\xc3\xa9"
                               R"(":""})"
                               "\n",
                               &pairs, &error))
      << error;
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(pairs[1], (std::pair<std::string, std::string>{"q\"b\\", "x\ny\r\tz"}));
  EXPECT_EQ(pairs[2], (std::pair<std::string, std::string>{"c\x01", "\xc3\xa9\xe2\x82\xac/"}));
  EXPECT_EQ(pairs[3], (std::pair<std::string, std::string>{"caf\xc3\xa9", ""}));
}

TEST(JsonListing, RejectsMalformedBodies) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string error;
  for (std::string_view bad :
       {"", "k:v\n", "[]", "{", R"({"a")", R"({"a":)", R"({"a":"b")", R"({"a":"b",})", R"({"a":1})",
        R"({"a":"\x"})", R"({"a":"\u12"})", R"({"a":"b"]})"}) {
    EXPECT_FALSE(ParseJsonListing(bad, &pairs, &error)) << bad;
  }
}

}  // namespace
}  // namespace httpkv::client
