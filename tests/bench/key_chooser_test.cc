#include "bench/loadgen/key_chooser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

namespace httpkv::bench {
namespace {

double Harmonic(uint64_t n, double theta) {
  double h = 0;
  for (uint64_t k = 1; k <= n; ++k) h += std::pow(static_cast<double>(k), -theta);
  return h;
}

// Rank frequencies match P(k) = k^-theta / H(N, theta) for the first few ranks.
void CheckZipf(uint64_t n, double theta) {
  KeyChooser kc(n, theta);
  Rng rng(42);
  std::vector<uint64_t> counts(n + 1, 0);
  const int samples = 2'000'000;
  for (int i = 0; i < samples; ++i) {
    const uint64_t r = kc.SampleRank(rng);
    ASSERT_GE(r, 1u);
    ASSERT_LE(r, n);
    ++counts[r];
  }
  const double h = Harmonic(n, theta);
  for (uint64_t k : {1, 2, 3, 10}) {
    const double want = std::pow(static_cast<double>(k), -theta) / h;
    const double got = static_cast<double>(counts[k]) / samples;
    EXPECT_NEAR(got, want, want * 0.03 + 0.0005) << "theta " << theta << " rank " << k;
  }
}

TEST(KeyChooser, ZipfRankFrequenciesMatchTheory) {
  CheckZipf(1000, 0.99);
  CheckZipf(100000, 0.99);
  CheckZipf(1000, 0.5);
  CheckZipf(1000, 1.0);
  CheckZipf(1000, 1.5);
}

TEST(KeyChooser, ScrambleIsABijectionAndHotKeyIsMostFrequent) {
  const uint64_t n = 1000;
  KeyChooser kc(n, 0.99);
  std::set<uint64_t> seen;
  for (uint64_t r = 1; r <= n; ++r) seen.insert(kc.KeyOfRank(r));
  EXPECT_EQ(seen.size(), n);
  EXPECT_EQ(*seen.rbegin(), n - 1);
  Rng rng(1);
  std::vector<uint64_t> counts(n, 0);
  for (int i = 0; i < 200000; ++i) ++counts[kc.Next(rng)];
  uint64_t best = 0;
  for (uint64_t k = 0; k < n; ++k) best = counts[k] > counts[best] ? k : best;
  EXPECT_EQ(best, kc.KeyOfRank(1));
}

TEST(KeyChooser, UniformAndSingleKey) {
  KeyChooser uni(10, 0);
  Rng rng(5);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 100000; ++i) ++counts[uni.Next(rng)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  KeyChooser one(1, 0.99);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(one.Next(rng), 0u);
}

}  // namespace
}  // namespace httpkv::bench
