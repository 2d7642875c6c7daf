// Index memory (bytes per key for 1M 16-byte keys, KeyIndex vs std::map), lookup / Get
// latency at 1M keys, and the cost of one listing page (Collect) at 10k vs 500k keys.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>

#include "bench/storage/bench_util.h"
#include "storage/key_index.h"

namespace httpkv::storage {
namespace {

using bench::Key16;
constexpr uint64_t kKeys = 1'000'000;

size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;  // small-block and mmap'ed allocations
}

// Resident bytes of the process: also counts the index's slot tables, which are mapped
// directly (not malloc'ed).
size_t ResidentBytes() {
  size_t pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%zu %zu", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void BM_IndexBytesPerKey(benchmark::State& state) {
  for (auto _ : state) {
    const size_t before = HeapInUse(), rss_before = ResidentBytes();
    auto index = std::make_unique<KeyIndex>();
    IndexEntry prev;
    for (uint64_t i = 0; i < kKeys; ++i) {
      index->Upsert(Key16(i), IndexEntry{1, 100, i * 136, i + 1}, &prev);
    }
    const size_t after = HeapInUse();
    // Heap only (slot tables are mapped, not malloc'ed: see rss_per_key and reported_per_key).
    state.counters["heap_per_key"] = static_cast<double>(after - before) / kKeys;
    state.counters["rss_per_key"] = static_cast<double>(ResidentBytes() - rss_before) / kKeys;
    state.counters["reported_per_key"] = static_cast<double>(index->memory_bytes()) / kKeys;
  }
}
BENCHMARK(BM_IndexBytesPerKey)->Iterations(1)->Unit(benchmark::kMillisecond);

// Inserting 1M keys in random order (recovery of an unordered log): hash plus ordered work.
void BM_IndexInsertRandomOrder(benchmark::State& state) {
  std::vector<uint64_t> order(kKeys);
  for (uint64_t i = 0; i < kKeys; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
  for (auto _ : state) {
    KeyIndex index;
    IndexEntry prev;
    for (uint64_t i : order) index.Upsert(Key16(i), IndexEntry{1, 100, i, i}, &prev);
    state.counters["reported_per_key"] = static_cast<double>(index.memory_bytes()) / kKeys;
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
}
BENCHMARK(BM_IndexInsertRandomOrder)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_StdMapBytesPerKey(benchmark::State& state) {  // the v1 index, for comparison
  for (auto _ : state) {
    const size_t before = HeapInUse();
    auto map = std::make_unique<std::map<std::string, IndexEntry, std::less<>>>();
    for (uint64_t i = 0; i < kKeys; ++i) map->emplace(Key16(i), IndexEntry{1, 100, i, i});
    state.counters["bytes_per_key"] = static_cast<double>(HeapInUse() - before) / kKeys;
  }
}
BENCHMARK(BM_StdMapBytesPerKey)->Iterations(1)->Unit(benchmark::kMillisecond);

KeyIndex& BigIndex() {
  static KeyIndex* index = [] {
    auto* idx = new KeyIndex;
    IndexEntry prev;
    for (uint64_t i = 0; i < kKeys; ++i) idx->Upsert(Key16(i), IndexEntry{1, 100, i, i}, &prev);
    return idx;
  }();
  return *index;
}

void BM_IndexFindRandom(benchmark::State& state) {
  KeyIndex& index = BigIndex();
  std::mt19937_64 rng(state.thread_index());
  std::string key = Key16(0);
  IndexEntry e;
  for (auto _ : state) {
    std::snprintf(key.data(), key.size() + 1, "key%013llu",
                  static_cast<unsigned long long>(rng() % kKeys));
    benchmark::DoNotOptimize(index.Find(key, &e));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexFindRandom)->Threads(1)->Threads(2);

// One page of 1000 keys from a random cursor: should cost about the same at any index size.
void BM_IndexCollectPage(benchmark::State& state) {
  const auto keys = static_cast<uint64_t>(state.range(0));
  static std::map<uint64_t, std::unique_ptr<KeyIndex>> built;  // reused across runs
  std::unique_ptr<KeyIndex>& slot = built[keys];
  if (slot == nullptr) {
    slot = std::make_unique<KeyIndex>();
    IndexEntry prev;
    for (uint64_t i = 0; i < keys; ++i) slot->Upsert(Key16(i), IndexEntry{1, 100, i, i}, &prev);
  }
  const KeyIndex& index = *slot;
  std::mt19937_64 rng(1);
  std::vector<std::pair<std::string, IndexEntry>> page;
  for (auto _ : state) {
    page.clear();
    index.Collect("key", Key16(rng() % keys), 1000, &page);
    benchmark::DoNotOptimize(page.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexCollectPage)->Arg(10'000)->Arg(500'000)->Unit(benchmark::kMicrosecond);

// LogStore::Get of random keys among 1M (100-byte values, page cache warm).
struct BigStore {
  bench::BenchDir dir;
  std::unique_ptr<LogStore> store;
  BigStore() {
    Options opts;
    opts.dir = dir.path();
    opts.fsync = FsyncPolicy::kNever;
    store = bench::OpenOrAbort(opts);
    const std::string value(100, 'v');
    for (uint64_t i = 0; i < kKeys; ++i) {
      (void)store->Put(Key16(i), value, Precondition::kNone, 0, nullptr);
    }
  }
};

void BM_GetRandom1M(benchmark::State& state) {
  static BigStore big;
  std::mt19937_64 rng(state.thread_index());
  std::string key = Key16(0), value;
  for (auto _ : state) {
    std::snprintf(key.data(), key.size() + 1, "key%013llu",
                  static_cast<unsigned long long>(rng() % kKeys));
    if (!big.store->Get(key, &value, nullptr).ok()) state.SkipWithError("get");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetRandom1M)->Threads(1)->Threads(2);

}  // namespace
}  // namespace httpkv::storage

BENCHMARK_MAIN();
