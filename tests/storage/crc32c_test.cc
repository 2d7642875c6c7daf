#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace httpkv::storage {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32cExtendSoftware(0, "123456789", 9), 0xE3069283u);
  const std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  const std::vector<uint8_t> ones(32, 0xFF);
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);  // RFC 3720 B.4
  EXPECT_EQ(Crc32c("", 0), 0u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  const std::string s = "The quick brown fox jumps over the lazy dog";
  for (size_t split = 0; split <= s.size(); ++split) {
    EXPECT_EQ(Crc32cExtend(Crc32c(s.data(), split), s.data() + split, s.size() - split),
              Crc32c(s.data(), s.size()));
  }
}

TEST(Crc32cTest, HardwareMatchesSoftware) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::mt19937_64 rng(42);
  std::vector<uint8_t> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t align = 0; align < 16; ++align) {
    for (size_t len = 0; len <= 300; ++len) {
      const uint8_t* p = buf.data() + align;
      ASSERT_EQ(Crc32cExtendHardware(0, p, len), Crc32cExtendSoftware(0, p, len))
          << "align " << align << " len " << len;
    }
    const uint32_t seed = static_cast<uint32_t>(rng());
    ASSERT_EQ(Crc32cExtendHardware(seed, buf.data() + align, 4096),
              Crc32cExtendSoftware(seed, buf.data() + align, 4096));
  }
}

}  // namespace
}  // namespace httpkv::storage
