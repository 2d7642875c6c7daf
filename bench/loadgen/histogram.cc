#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace httpkv::bench {

size_t Histogram::Index(uint64_t v) {
  if (v < 2 * kSub) return static_cast<size_t>(v);
  // shift keeps the top kSubBits+1 bits: v >> shift is in [kSub, 2*kSub).
  const int shift = std::bit_width(v) - kSubBits - 1;
  const size_t i = static_cast<size_t>(shift) * kSub + static_cast<size_t>(v >> shift);
  return std::min(i, kBuckets - 1);
}

uint64_t Histogram::BucketLow(size_t i) {
  if (i < 2 * kSub) return i;
  const size_t shift = i / kSub - 1;
  return (i - shift * kSub) << shift;
}

uint64_t Histogram::BucketWidth(size_t i) {
  return i < 2 * kSub ? 1 : uint64_t{1} << (i / kSub - 1);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  if (rank >= count_) return max();
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t mid = BucketLow(i) + BucketWidth(i) / 2;
      return std::clamp(mid, min(), max());
    }
  }
  return max();
}

}  // namespace httpkv::bench
