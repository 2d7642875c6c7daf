#include <gtest/gtest.h>

#include <string>

#include "server/etcd/base64.h"

namespace httpkv::etcd {
namespace {

TEST(EtcdBase64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(EtcdBase64, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string in = all.substr(0, n), out;
    ASSERT_TRUE(Base64Decode(Base64Encode(in), &out)) << n;
    EXPECT_EQ(out, in);
  }
}

TEST(EtcdBase64, DecodesValidInput) {
  std::string out;
  ASSERT_TRUE(Base64Decode("Zm9vYmE=", &out));
  EXPECT_EQ(out, "fooba");
  ASSERT_TRUE(Base64Decode("", &out));
  EXPECT_EQ(out, "");
}

TEST(EtcdBase64, RejectsBadInput) {
  std::string out;
  EXPECT_FALSE(Base64Decode("Zm9", &out));       // not a multiple of 4
  EXPECT_FALSE(Base64Decode("Zm9v!A==", &out));  // outside the alphabet
  EXPECT_FALSE(Base64Decode("Zm-_", &out));      // URL-safe alphabet is not accepted
  EXPECT_FALSE(Base64Decode("Z===", &out));      // too much padding
  EXPECT_FALSE(Base64Decode("Zg==Zm9v", &out));  // padding before the end
  EXPECT_FALSE(Base64Decode("Zm=v", &out));      // '=' inside a group
  EXPECT_FALSE(Base64Decode("Zh==", &out));      // stray bits after the last byte
  EXPECT_FALSE(Base64Decode("Zm9=", &out));      // stray bits after the last byte
  EXPECT_FALSE(Base64Decode("Zm9v\n", &out));    // no whitespace
}

}  // namespace
}  // namespace httpkv::etcd
