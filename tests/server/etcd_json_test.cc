#include <gtest/gtest.h>

#include <string>

#include "server/etcd/json.h"

namespace httpkv::etcd {
namespace {

JsonValue MustParse(std::string_view text) {
  JsonValue v;
  std::string error;
  EXPECT_TRUE(JsonValue::Parse(text, &v, &error)) << text << ": " << error;
  return v;
}

bool Rejects(std::string_view text) {
  JsonValue v;
  std::string error;
  bool ok = JsonValue::Parse(text, &v, &error);
  return !ok && !error.empty();
}

TEST(EtcdJson, QuotesStrings) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuote("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(JsonQuote(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(JsonQuote("é/"), "\"é/\"");
}

TEST(EtcdJson, QuotedStringsParseBack) {
  std::string s;
  for (int i = 1; i < 128; ++i) s.push_back(static_cast<char>(i));
  JsonValue v = MustParse(JsonQuote(s));
  ASSERT_TRUE(v.is_string());
  EXPECT_EQ(v.text(), s);
}

TEST(EtcdJson, ParsesAnEtcdRangeAnswer) {
  JsonValue v =
      MustParse(R"({"header":{"cluster_id":"151","revision":"5","raft_term":"2"},)"
                R"("kvs":[{"key":"YQ==","create_revision":"4","mod_revision":"5","version":"2",)"
                R"("value":"ZA==","lease":"41"}],"count":"1","more":false})");
  ASSERT_TRUE(v.is_object());
  const JsonValue* kvs = v.Find("kvs");
  ASSERT_NE(kvs, nullptr);
  ASSERT_TRUE(kvs->is_array());
  ASSERT_EQ(kvs->items().size(), 1u);
  int64_t rev = 0;
  EXPECT_TRUE(Int64Field(kvs->items()[0], "create_revision", 0, &rev));
  EXPECT_EQ(rev, 4);
  EXPECT_TRUE(Int64Field(kvs->items()[0], "missing", 7, &rev));
  EXPECT_EQ(rev, 7);
  std::string key;
  EXPECT_TRUE(StringField(kvs->items()[0], "key", &key));
  EXPECT_EQ(key, "YQ==");
  ASSERT_NE(v.Find("more"), nullptr);
  EXPECT_TRUE(v.Find("more")->is_bool());
  EXPECT_FALSE(v.Find("more")->bool_value());
  EXPECT_EQ(v.Find("nope"), nullptr);
  EXPECT_EQ(kvs->Find("key"), nullptr);  // not an object
}

TEST(EtcdJson, ScalarsAndNesting) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_TRUE(MustParse(" true ").bool_value());
  JsonValue n = MustParse("-12.5e+3");
  ASSERT_TRUE(n.is_number());
  EXPECT_EQ(n.text(), "-12.5e+3");
  JsonValue code = MustParse(R"({"code":5,"big":"9223372036854775807","neg":-3})");
  int64_t x = 0;
  EXPECT_TRUE(Int64Field(code, "code", 0, &x));
  EXPECT_EQ(x, 5);
  EXPECT_TRUE(Int64Field(code, "big", 0, &x));
  EXPECT_EQ(x, INT64_MAX);
  EXPECT_TRUE(Int64Field(code, "neg", 0, &x));
  EXPECT_EQ(x, -3);
  JsonValue bad = MustParse(R"({"over":"9223372036854775808","frac":1.5,"s":true})");
  EXPECT_FALSE(Int64Field(bad, "over", 0, &x));
  EXPECT_FALSE(Int64Field(bad, "frac", 0, &x));
  EXPECT_FALSE(Int64Field(bad, "s", 0, &x));
  std::string s;
  EXPECT_FALSE(StringField(bad, "frac", &s));
  JsonValue nested = MustParse(R"([[],{},[{"a":[1,2,{"b":null}]}]])");
  ASSERT_EQ(nested.items().size(), 3u);
  EXPECT_TRUE(nested.items()[1].is_object());
  // A repeated member: the last one wins.
  JsonValue dup = MustParse(R"({"a":1,"a":2})");
  EXPECT_EQ(dup.Find("a")->text(), "2");
}

TEST(EtcdJson, DecodesEscapes) {
  JsonValue v = MustParse(R"("a\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00")");
  EXPECT_EQ(v.text(), "a\"\\/\b\f\n\r\tAé€😀");
}

TEST(EtcdJson, RejectsMalformedDocuments) {
  EXPECT_TRUE(Rejects(""));
  EXPECT_TRUE(Rejects("{"));
  EXPECT_TRUE(Rejects(R"({"a":1,})"));
  EXPECT_TRUE(Rejects("[1,]"));
  EXPECT_TRUE(Rejects(R"({"a" 1})"));
  EXPECT_TRUE(Rejects(R"({a:1})"));
  EXPECT_TRUE(Rejects("01"));
  EXPECT_TRUE(Rejects("1."));
  EXPECT_TRUE(Rejects("-"));
  EXPECT_TRUE(Rejects("1e"));
  EXPECT_TRUE(Rejects("+1"));
  EXPECT_TRUE(Rejects("tru"));
  EXPECT_TRUE(Rejects("nul"));
  EXPECT_TRUE(Rejects(R"("abc)"));
  EXPECT_TRUE(Rejects("\"a\nb\""));      // raw control character
  EXPECT_TRUE(Rejects(R"("\x")"));       // unknown escape
  EXPECT_TRUE(Rejects(R"("\u12")"));     // short \u
  EXPECT_TRUE(Rejects(R"("\ud83d")"));   // lone high surrogate
  EXPECT_TRUE(Rejects(R"("\ude00")"));   // lone low surrogate
  EXPECT_TRUE(Rejects(R"({"a":1} x)"));  // trailing garbage
  EXPECT_TRUE(Rejects("{} {}"));
  EXPECT_TRUE(Rejects(std::string(100, '[') + std::string(100, ']')));  // too deep
  EXPECT_FALSE(Rejects(std::string(60, '[') + std::string(60, ']')));
}

}  // namespace
}  // namespace httpkv::etcd
