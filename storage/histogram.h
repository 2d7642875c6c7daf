// Histogram: fixed buckets, recorded with relaxed atomics from any thread (no lock, no
// allocation), read as a snapshot for Stats and /metrics (Prometheus histogram semantics:
// bucket i counts observations <= bounds[i]; one more bucket counts the rest, +Inf).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace httpkv::storage {

struct HistogramSnapshot {
  std::vector<uint64_t> bounds;  // upper bounds, ascending
  std::vector<uint64_t> counts;  // per bucket (not cumulative); bounds.size() + 1 entries
  uint64_t sum = 0;
  uint64_t count = 0;
};

template <size_t N>
class Histogram {
 public:
  explicit Histogram(const std::array<uint64_t, N>& bounds) : bounds_(bounds) {}

  void Record(uint64_t v) {
    const size_t i =
        static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  HistogramSnapshot Snapshot() const {
    HistogramSnapshot s;
    s.bounds.assign(bounds_.begin(), bounds_.end());
    for (const auto& c : counts_) s.counts.push_back(c.load(std::memory_order_relaxed));
    s.sum = sum_.load(std::memory_order_relaxed);
    s.count = count_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  const std::array<uint64_t, N> bounds_;
  std::array<std::atomic<uint64_t>, N + 1> counts_{};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// fdatasync latency, nanoseconds: 50 us .. 1 s.
inline constexpr std::array<uint64_t, 14> kFsyncLatencyBoundsNs = {
    50'000,     100'000,    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,
    10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000};
// Writes (appended records) made durable by one fdatasync of the log.
inline constexpr std::array<uint64_t, 11> kWritesPerSyncBounds = {1,  2,   4,   8,   16,  32,
                                                                  64, 128, 256, 512, 1024};

}  // namespace httpkv::storage
