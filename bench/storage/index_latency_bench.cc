// Write latency while an index grows: every KeyIndex::Upsert of N random-order 16-byte keys is
// timed on its own, and the slowest, p99.9 and p99 are reported (a pause shows up as the max).
// Also LogStore::Put at 1M keys (the whole write path, fsync off). Run alone on the machine:
// other load disturbs the tail. Memory: the 10M run needs ~1 GiB.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <vector>

#include "bench/storage/bench_util.h"
#include "storage/key_index.h"

namespace httpkv::storage {
namespace {

using Clock = std::chrono::steady_clock;

// n distinct 16-byte keys ("key" + 13 digits) in a random order, packed.
std::vector<char> RandomOrderKeys(uint64_t n) {
  std::vector<uint64_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(n));
  std::vector<char> keys(n * 16);
  for (uint64_t i = 0; i < n; ++i) {
    const std::string k = bench::Key16(ids[i]);
    std::copy(k.begin(), k.end(), keys.begin() + static_cast<ptrdiff_t>(i * 16));
  }
  return keys;
}

// ns: per-operation latencies in nanoseconds (saturating at ~4.3 s; max_ns is exact).
void ReportLatencies(benchmark::State& state, std::vector<uint32_t>* ns, uint64_t max_ns) {
  auto at = [&](double q) {
    const size_t i = std::min(ns->size() - 1, static_cast<size_t>(q * ns->size()));
    std::nth_element(ns->begin(), ns->begin() + static_cast<ptrdiff_t>(i), ns->end());
    return static_cast<double>((*ns)[i]) / 1000;
  };
  state.counters["max_us"] = static_cast<double>(max_ns) / 1000;
  state.counters["p999_us"] = at(0.999);
  state.counters["p99_us"] = at(0.99);
  state.counters["over_1ms"] = static_cast<double>(
      std::count_if(ns->begin(), ns->end(), [](uint32_t t) { return t > 1'000'000; }));
}

void BM_IndexUpsertLatency(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const std::vector<char> keys = RandomOrderKeys(n);
  std::vector<uint32_t> ns(n);
  uint64_t max_ns = 0;
  for (auto _ : state) {
    auto index = std::make_unique<KeyIndex>();
    IndexEntry prev;
    for (uint64_t i = 0; i < n; ++i) {
      const std::string_view key(keys.data() + i * 16, 16);
      const auto start = Clock::now();
      index->Upsert(key, IndexEntry{1, 100, i * 136, i + 1}, &prev);
      const auto took = static_cast<uint64_t>((Clock::now() - start) / std::chrono::nanoseconds(1));
      ns[i] = static_cast<uint32_t>(std::min<uint64_t>(UINT32_MAX, took));
      max_ns = std::max(max_ns, took);
    }
    state.counters["reported_B_per_key"] = static_cast<double>(index->memory_bytes()) / n;
    state.PauseTiming();
    index.reset();
    state.ResumeTiming();
  }
  ReportLatencies(state, &ns, max_ns);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_IndexUpsertLatency)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_StorePutLatency(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const std::vector<char> keys = RandomOrderKeys(n);
  std::vector<uint32_t> ns(n);
  uint64_t max_ns = 0;
  const std::string value(100, 'v');
  for (auto _ : state) {
    bench::BenchDir dir;
    Options opts;
    opts.dir = dir.path();
    opts.fsync = FsyncPolicy::kNever;
    auto store = bench::OpenOrAbort(opts);
    for (uint64_t i = 0; i < n; ++i) {
      const std::string_view key(keys.data() + i * 16, 16);
      const auto start = Clock::now();
      (void)store->Put(key, value, Precondition::kNone, 0, nullptr);
      const auto took = static_cast<uint64_t>((Clock::now() - start) / std::chrono::nanoseconds(1));
      ns[i] = static_cast<uint32_t>(std::min<uint64_t>(UINT32_MAX, took));
      max_ns = std::max(max_ns, took);
    }
  }
  ReportLatencies(state, &ns, max_ns);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_StorePutLatency)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace httpkv::storage

BENCHMARK_MAIN();
