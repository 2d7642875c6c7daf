// Start-up time with many keys: LogStore::Open of a store holding N distinct 16-byte keys
// written in random order (16-byte values), with and without hint files, and the index's bulk
// load alone (hash table, then one sort) against inserting one key at a time. Reports keys/s
// and, for scans, MB/s of segment bytes. The data is generated once per N under $TMPDIR
// (~700 MB for 10M keys) and deleted at exit; the page cache is warm.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <numeric>
#include <random>

#include "bench/storage/bench_util.h"
#include "storage/key_index.h"

namespace httpkv::storage {
namespace {

std::vector<uint64_t> Shuffled(uint64_t n) {
  std::vector<uint64_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(n));
  return ids;
}

Options StoreOptions(const std::string& dir) {
  Options opts;
  opts.dir = dir;
  opts.fsync = FsyncPolicy::kNever;
  opts.compact_dead_ratio = 1.0;
  return opts;
}

struct KeysDataset {
  bench::BenchDir dir;
  explicit KeysDataset(uint64_t n) {
    auto store = bench::OpenOrAbort(StoreOptions(dir.path()));
    const std::string value(16, 'v');
    for (uint64_t id : Shuffled(n)) {
      (void)store->Put(bench::Key16(id), value, Precondition::kNone, 0, nullptr);
    }
    store->TEST_WaitIdle();  // hints of the sealed segments written
  }
  void SetHints(bool on) { bench::SetHints(dir.path(), on); }
};

KeysDataset& Data(uint64_t n) {
  static std::map<uint64_t, std::unique_ptr<KeysDataset>> data;
  auto& d = data[n];
  if (d == nullptr) d = std::make_unique<KeysDataset>(n);
  return *d;
}

void BM_OpenRandomKeys(benchmark::State& state, bool hints) {
  KeysDataset& data = Data(static_cast<uint64_t>(state.range(0)));
  RecoveryReport rep;
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    data.SetHints(hints);
    state.ResumeTiming();
    auto store = bench::OpenOrAbort(StoreOptions(data.dir.path()));
    state.PauseTiming();
    rep = store->recovery();
    seconds += rep.seconds;
    store.reset();  // it may write the hints it found missing: SetHints moves them again
    state.ResumeTiming();
  }
  data.SetHints(true);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rep.live_keys));
  state.counters["keys"] = static_cast<double>(rep.live_keys);
  state.counters["from_hints"] = static_cast<double>(rep.segments_from_hints);
  state.counters["scanned_MB"] = static_cast<double>(rep.bytes_scanned) / 1e6;
  state.counters["scan_MB_per_s"] =
      static_cast<double>(rep.bytes_scanned) * state.iterations() / 1e6 / seconds;
  state.counters["recovery_s"] = seconds / state.iterations();
}
BENCHMARK_CAPTURE(BM_OpenRandomKeys, with_hints, true)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_OpenRandomKeys, without_hints, false)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The index alone: N random-order keys inserted in a bulk load or one at a time.
void BM_IndexLoad(benchmark::State& state, bool bulk) {
  const auto n = static_cast<uint64_t>(state.range(0));
  std::vector<std::string> keys;
  for (uint64_t id : Shuffled(n)) keys.push_back(bench::Key16(id));
  for (auto _ : state) {
    auto index = std::make_unique<KeyIndex>();
    IndexEntry prev;
    if (bulk) index->BeginBulkLoad();
    for (uint64_t i = 0; i < n; ++i) index->Upsert(keys[i], IndexEntry{1, 16, i * 52, i}, &prev);
    if (bulk) index->EndBulkLoad();
    state.PauseTiming();
    index.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK_CAPTURE(BM_IndexLoad, bulk, true)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_IndexLoad, one_by_one, false)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace httpkv::storage

BENCHMARK_MAIN();
