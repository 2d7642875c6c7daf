// Histogram: HDR-style log-linear latency buckets (values in nanoseconds).
//
// Values below 2*kSub are counted exactly; above, every power-of-two range is split
// into kSub linear sub-buckets, so a bucket is never wider than 1/kSub (0.8%) of its
// lower bound. Reported values are bucket midpoints (error <= 0.4%), clamped to the
// exact min/max. Covers 0 .. 2^36 ns (68 s); larger values land in the last bucket.
// Recording is an index computation and one increment: no allocation after
// construction. Histograms merge by adding counts (per-worker -> total).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace httpkv::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr int kMaxBits = 36;  // 2^36 ns ~ 68.7 s
  static constexpr size_t kBuckets = (kMaxBits - kSubBits + 1) * kSub;

  Histogram() : counts_(kBuckets, 0) {}

  void Record(uint64_t v) {
    ++counts_[Index(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }
  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ ? max_ : 0; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // Value at quantile q in [0, 1] (0.99 = p99); 0 when empty.
  uint64_t Percentile(double q) const;

  static size_t Index(uint64_t v);
  // Lower bound and width of bucket i (every value v with Index(v) == i is in [lo, lo+w)).
  static uint64_t BucketLow(size_t i);
  static uint64_t BucketWidth(size_t i);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace httpkv::bench
