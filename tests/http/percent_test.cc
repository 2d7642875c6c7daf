#include "http/percent.h"

#include <gtest/gtest.h>

#include <string>

namespace httpkv::http {
namespace {

TEST(PercentDecode, Decodes) {
  std::string out;
  ASSERT_FALSE(PercentDecode("a%20b%2Fc%2f", &out).failed());
  EXPECT_EQ(out, "a b/c/");
  ASSERT_FALSE(PercentDecode("plus+stays", &out).failed());
  EXPECT_EQ(out, "plus+stays");
  ASSERT_FALSE(PercentDecode("%00%FF", &out).failed());
  EXPECT_EQ(out, std::string("\0\xff", 2));
  ASSERT_FALSE(PercentDecode("", &out).failed());
  EXPECT_EQ(out, "");
}

TEST(PercentDecode, RejectsBadEscapes) {
  std::string out;
  EXPECT_EQ(PercentDecode("%zz", &out).status, 400);
  EXPECT_EQ(PercentDecode("%4", &out).status, 400);
  EXPECT_EQ(PercentDecode("abc%", &out).status, 400);
  EXPECT_EQ(PercentDecode("%g0", &out).status, 400);
}

TEST(PercentDecode, ReusesCapacity) {
  std::string out;
  out.reserve(100);
  const char* before = out.data();
  ASSERT_FALSE(PercentDecode("hello%21", &out).failed());
  EXPECT_EQ(out.data(), before);
  EXPECT_EQ(out, "hello!");
}

TEST(PercentEncodePath, EncodesOutsidePchar) {
  std::string out;
  PercentEncodePath("a b/c?d#e%f", &out);
  EXPECT_EQ(out, "a%20b%2Fc%3Fd%23e%25f");
  PercentEncodePath("AZaz09-._~!$&'()*+,;=:@", &out);
  EXPECT_EQ(out, "AZaz09-._~!$&'()*+,;=:@");
  PercentEncodePath(std::string("\x00\xc3\xa9", 3), &out);
  EXPECT_EQ(out, "%00%C3%A9");
}

TEST(PercentEncodePath, RoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string enc, dec;
  PercentEncodePath(all, &enc);
  ASSERT_FALSE(PercentDecode(enc, &dec).failed());
  EXPECT_EQ(dec, all);
}

}  // namespace
}  // namespace httpkv::http
