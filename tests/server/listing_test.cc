#include "server/routes/listing.h"

#include <gtest/gtest.h>

#include <string>

namespace httpkv::server {
namespace {

struct Parsed {
  std::string error, prefix, after;
  size_t limit = 0;
};

Parsed Parse(std::string_view raw) {
  RouteScratch scratch;
  ListingQuery q;
  Parsed p;
  p.error = std::string(ParseListingQuery(raw, &scratch, &q));
  p.prefix = std::string(q.prefix);
  p.after = std::string(q.after);
  p.limit = q.limit;
  return p;
}

TEST(ListingQuery, EmptyMeansEverything) {
  Parsed p = Parse("");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.prefix, "");
  EXPECT_EQ(p.after, "");
  EXPECT_EQ(p.limit, SIZE_MAX);
}

TEST(ListingQuery, PlusIsSpaceAndEscapesDecode) {
  Parsed p = Parse("prefix=a+b%20c&after=%2B%26%3d%00x");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.prefix, "a b c");
  EXPECT_EQ(p.after, std::string("+&=\0x", 5));  // %2B is a literal '+'
}

TEST(ListingQuery, BadEscapes) {
  for (std::string_view raw : {"prefix=%", "prefix=%4", "prefix=%zz", "after=a%g0", "limit=%"}) {
    EXPECT_FALSE(Parse(raw).error.empty()) << raw;
  }
  EXPECT_EQ(Parse("other=%zz").error, "");  // unknown parameters are ignored
}

TEST(ListingQuery, Limit) {
  EXPECT_EQ(Parse("limit=10").limit, 10u);
  EXPECT_EQ(Parse("limit=0").limit, 0u);
  EXPECT_EQ(Parse("limit=%31%32").limit, 12u);
  EXPECT_EQ(Parse("limit=").limit, SIZE_MAX);  // empty: no limit
  for (std::string_view raw : {"limit=-1", "limit=1x", "limit=+1", "limit=+", "limit=1.5",
                               "limit=99999999999999999999999", "limit= 1"}) {
    EXPECT_FALSE(Parse(raw).error.empty()) << raw;
  }
}

TEST(ListingQuery, Ttls) {
  RouteScratch scratch;
  ListingQuery q;
  EXPECT_EQ(ParseListingQuery("limit=5", &scratch, &q), "");
  EXPECT_FALSE(q.ttls);
  EXPECT_EQ(ParseListingQuery("ttls=1&limit=5", &scratch, &q), "");
  EXPECT_TRUE(q.ttls);
  EXPECT_EQ(q.limit, 5u);
  EXPECT_EQ(ParseListingQuery("ttls=0", &scratch, &q), "");
  EXPECT_FALSE(q.ttls);
  for (std::string_view raw : {"ttls=", "ttls=yes", "ttls=2", "ttls"}) {
    ListingQuery bad;
    EXPECT_FALSE(ParseListingQuery(raw, &scratch, &bad).empty()) << raw;
  }
}

TEST(ListingQuery, LastOccurrenceWinsAndSeparatorsAreRobust) {
  Parsed p = Parse("prefix=a&prefix=b&&limit=3&=x&prefix");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.prefix, "");  // a bare "prefix" sets it to empty
  EXPECT_EQ(p.limit, 3u);
  EXPECT_EQ(Parse("prefix=a&prefix=b").prefix, "b");
  EXPECT_EQ(Parse("prefix=a=b").prefix, "a=b");
}

std::string Json(std::string_view s) {
  std::string out = "x";
  AppendJsonString(s, &out);
  return out;
}

TEST(JsonString, Escaping) {
  EXPECT_EQ(Json(""), "x\"\"");
  EXPECT_EQ(Json("plain"), "x\"plain\"");
  EXPECT_EQ(Json("q\"b\\s/"), "x\"q\\\"b\\\\s/\"");
  EXPECT_EQ(Json("\n\r\t"), "x\"\\n\\r\\t\"");
  EXPECT_EQ(Json(std::string_view("\0\x01\x1f\x7f", 4)), "x\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(Json("caf\xc3\xa9"), "x\"caf\xc3\xa9\"");  // UTF-8 passes through
}

std::string Entry(std::string_view key, std::string_view value, uint64_t expires_at_ms) {
  std::string out;
  AppendJsonEntry(key, value, expires_at_ms, 1'000'000, &out);
  return out;
}

TEST(JsonEntry, PlainOrWithSecondsLeftRoundedUp) {
  EXPECT_EQ(Entry("k", "v\n", 0), "\"k\":\"v\\n\"");
  EXPECT_EQ(Entry("k", "v", 1'000'000 + 30'000), "\"k\":[\"v\",30]");
  EXPECT_EQ(Entry("k", "v", 1'000'000 + 1), "\"k\":[\"v\",1]");
  EXPECT_EQ(Entry("k", "v", 1'000'000 + 2'500), "\"k\":[\"v\",3]");
}

}  // namespace
}  // namespace httpkv::server
