#include "server/placement/xxh32.h"

#include <bit>
#include <cstring>

namespace httpkv::placement {
namespace {

constexpr uint32_t kPrime1 = 2654435761u;
constexpr uint32_t kPrime2 = 2246822519u;
constexpr uint32_t kPrime3 = 3266489917u;
constexpr uint32_t kPrime4 = 668265263u;
constexpr uint32_t kPrime5 = 374761393u;

// Little-endian 32-bit load, whatever the host's byte order.
uint32_t Load32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

uint32_t Round(uint32_t acc, uint32_t lane) {
  return std::rotl(acc + lane * kPrime2, 13) * kPrime1;
}

uint32_t Avalanche(uint32_t h) {
  h ^= h >> 15;
  h *= kPrime2;
  h ^= h >> 13;
  h *= kPrime3;
  h ^= h >> 16;
  return h;
}

}  // namespace

uint32_t Xxh32(std::string_view data, uint32_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  size_t i = 0;
  uint32_t h;
  if (n >= 16) {
    uint32_t v1 = seed + kPrime1 + kPrime2, v2 = seed + kPrime2, v3 = seed, v4 = seed - kPrime1;
    for (; i + 16 <= n; i += 16) {  // four lanes of 4 bytes per 16-byte stripe
      v1 = Round(v1, Load32(p + i));
      v2 = Round(v2, Load32(p + i + 4));
      v3 = Round(v3, Load32(p + i + 8));
      v4 = Round(v4, Load32(p + i + 12));
    }
    h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
  } else {
    h = seed + kPrime5;
  }
  h += static_cast<uint32_t>(n);  // the length modulo 2^32, as the reference does
  for (; i + 4 <= n; i += 4) h = std::rotl(h + Load32(p + i) * kPrime3, 17) * kPrime4;
  for (; i < n; ++i) h = std::rotl(h + p[i] * kPrime5, 11) * kPrime1;
  return Avalanche(h);
}

}  // namespace httpkv::placement
