#include "bench/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <cmath>

#include "bench/loadgen/key_chooser.h"

namespace httpkv::bench {
namespace {

TEST(Histogram, BucketsCoverEveryValueWithinOnePercent) {
  Rng rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = rng.Below(uint64_t{1} << (1 + rng.Below(36)));
    const size_t idx = Histogram::Index(v);
    ASSERT_LT(idx, Histogram::kBuckets);
    const uint64_t lo = Histogram::BucketLow(idx), w = Histogram::BucketWidth(idx);
    ASSERT_LE(lo, v);
    ASSERT_LT(v, lo + w);
    if (w > 1) {  // narrower buckets are exact
      ASSERT_LE(static_cast<double>(w) / static_cast<double>(lo), 0.01);
    }
  }
  EXPECT_EQ(Histogram::Index(uint64_t{60} * 1000000000), Histogram::Index(60'000'000'000));
  EXPECT_EQ(Histogram::Index(UINT64_MAX), Histogram::kBuckets - 1);  // clamped, not UB
}

TEST(Histogram, PercentilesWithinOnePercent) {
  Histogram h;
  for (uint64_t us = 1; us <= 100000; ++us) h.Record(us * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double want = q * 100000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.Percentile(q)), want, want * 0.01) << q;
  }
  EXPECT_EQ(h.max(), 100000u * 1000);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.Percentile(1.0), h.max());
  EXPECT_NEAR(h.mean(), 50000.5 * 1000, 1);
}

TEST(Histogram, SixtySecondsAndSmallValues) {
  Histogram h;
  h.Record(60'000'000'000);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 6e10, 6e10 * 0.01);
  Histogram s;
  s.Record(137);
  EXPECT_EQ(s.Percentile(0.5), 137u);  // exact below 256 ns
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  Rng rng(3);
  for (int i = 0; i < 50000; ++i) {
    const uint64_t v = 1000 + rng.Below(5'000'000);
    (i % 2 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.Percentile(0.5), 0u);
}

}  // namespace
}  // namespace httpkv::bench
