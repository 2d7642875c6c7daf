// Random numbers and key choice for the load generator.
//
// Rng: splitmix64, tiny and fast; one per connection so threads never share state.
// KeyChooser: uniform, or Zipf over ranks 1..N with exponent theta (P(k) ~ 1/k^theta),
// sampled by rejection-inversion (Hoermann & Derflinger 1996): exact for any theta > 0,
// O(1) expected work per sample, only a few constants precomputed and no O(N) table,
// so --keys can be large. Ranks are scrambled through a fixed bijection
// (k * mult mod N, gcd(mult, N) = 1) like YCSB's scrambled zipfian, so the hot keys are
// spread over the key space instead of being key-0, key-1, ...
// Immutable after construction: shared read-only by all worker threads.
#pragma once

#include <cstdint>

namespace httpkv::bench {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (multiply-shift; bias is negligible for n << 2^64).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

class KeyChooser {
 public:
  // theta == 0: uniform. theta > 0: Zipf. keys >= 1.
  KeyChooser(uint64_t keys, double theta);

  // A key number in [0, keys).
  uint64_t Next(Rng& rng) const {
    if (theta_ == 0) return rng.Below(keys_);
    return Scramble(SampleRank(rng) - 1);
  }
  // 1-based Zipf rank before scrambling (exposed for tests).
  uint64_t SampleRank(Rng& rng) const;
  // The key number that rank r (1-based) maps to.
  uint64_t KeyOfRank(uint64_t r) const { return theta_ == 0 ? r - 1 : Scramble(r - 1); }
  uint64_t keys() const { return keys_; }
  double theta() const { return theta_; }

 private:
  uint64_t Scramble(uint64_t r) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * mult_) % keys_);
  }
  double H(double x) const;         // integral of h
  double HInverse(double x) const;  // inverse of H
  double h(double x) const;         // 1 / x^theta

  uint64_t keys_;
  double theta_;
  uint64_t mult_ = 1;
  double h_x1_ = 0;  // H(1.5) - 1
  double h_n_ = 0;   // H(N + 0.5)
  double s_ = 0;     // acceptance shortcut
};

}  // namespace httpkv::bench
