// Storage micro-benchmarks: put throughput per fsync policy (always: inline and group commit
// from 8 threads), hot-key get latency,
// recovery scan speed. Data lives under $TMPDIR (default /tmp); fsync numbers depend on it.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "bench/storage/bench_util.h"
#include "storage/log_store.h"

namespace httpkv::storage {
namespace {

constexpr size_t kValueSize = 100;

using bench::BenchDir;

std::unique_ptr<LogStore> OpenStore(const std::string& dir, FsyncPolicy policy) {
  Options opts;
  opts.dir = dir;
  opts.fsync = policy;
  return bench::OpenOrAbort(opts);
}

std::string Key(int i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "key%010d", i);
  return buf;
}

void BM_Put(benchmark::State& state, FsyncPolicy policy) {
  BenchDir dir;
  auto store = OpenStore(dir.path(), policy);
  const std::string value(kValueSize, 'v');
  std::string key = Key(0);
  int i = 0;
  for (auto _ : state) {
    std::snprintf(key.data(), key.size() + 1, "key%010d", i++ % 100000);
    Status s = store->Put(key, value, Precondition::kNone, 0, nullptr);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(key.size() + kValueSize));
  const Stats st = store->stats();
  state.counters["fsyncs"] = static_cast<double>(st.fsyncs);
  if (st.fsyncs > 0) state.counters["fsync_us"] = st.fsync_ns_total / 1e3 / st.fsyncs;
}
// Wall-clock rates: fsync time is not CPU time. everysec runs long enough to see syncs.
BENCHMARK_CAPTURE(BM_Put, never, FsyncPolicy::kNever)->UseRealTime();
BENCHMARK_CAPTURE(BM_Put, everysec, FsyncPolicy::kEverySec)->UseRealTime()->MinTime(3.0);
BENCHMARK_CAPTURE(BM_Put, always, FsyncPolicy::kAlways)->UseRealTime()->Iterations(500);

// --fsync always with group commit: every thread waits for durability of each of its puts,
// as the server holds a response until done runs. Threads' waits coalesce into groups.
struct GroupStore {
  BenchDir dir;
  std::unique_ptr<LogStore> store;
  GroupStore() {
    Options opts;
    opts.dir = dir.path();
    opts.fsync = FsyncPolicy::kAlways;
    opts.group_commit = true;
    if (!LogStore::Open(opts, &store).ok()) std::abort();
  }
};
std::unique_ptr<GroupStore> g_group;

void BM_PutAlwaysGroupCommit(benchmark::State& state) {
  if (state.thread_index() == 0) g_group = std::make_unique<GroupStore>();
  // Google Benchmark starts the timed region of all threads together, after setup.
  const std::string value(kValueSize, 'g');
  std::string key;
  int i = 0;
  for (auto _ : state) {
    key = Key(state.thread_index() * 1000000 + i++ % 100000);
    WriteResult r;
    LogStore* store = g_group->store.get();
    if (!store->Put(key, value, Precondition::kNone, 0, &r).ok()) state.SkipWithError("put");
    struct Waiter {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    } w;
    store->SyncAsync(
        r.sync_token,
        [](void* ctx, const Status&) {
          auto* w = static_cast<Waiter*>(ctx);
          std::lock_guard lock(w->mu);
          w->done = true;
          w->cv.notify_one();
        },
        &w);
    std::unique_lock lock(w.mu);
    w.cv.wait(lock, [&] { return w.done; });
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const Stats st = g_group->store->stats();
    state.counters["fsyncs"] = static_cast<double>(st.fsyncs);
    state.counters["puts_per_fsync"] =
        st.fsyncs ? static_cast<double>(st.appends) / static_cast<double>(st.fsyncs) : 0;
    g_group.reset();
  }
}
BENCHMARK(BM_PutAlwaysGroupCommit)->Threads(8)->UseRealTime()->MinTime(2.0);

// One store shared by all benchmark threads, so ->Threads(4) measures read concurrency.
struct HotStore {
  BenchDir dir;
  std::unique_ptr<LogStore> store = OpenStore(dir.path(), FsyncPolicy::kNever);
  HotStore() {
    for (int i = 0; i < 1000; ++i) {
      (void)store->Put(Key(i), std::string(kValueSize, 'h'), Precondition::kNone, 0, nullptr);
    }
  }
};
HotStore& Hot() {
  static HotStore hot;
  return hot;
}

void BM_GetHotKey(benchmark::State& state) {
  LogStore& store = *Hot().store;
  const std::string key = Key(7);
  std::string value;
  value.reserve(kValueSize);
  for (auto _ : state) {
    Status s = store.Get(key, &value, nullptr);
    benchmark::DoNotOptimize(value.data());
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetHotKey)->Threads(1)->Threads(2);

void BM_Stat(benchmark::State& state) {
  LogStore& store = *Hot().store;
  const std::string key = Key(7);
  ValueMeta meta;
  for (auto _ : state) benchmark::DoNotOptimize(store.Stat(key, &meta).ok());
}
BENCHMARK(BM_Stat);

void BM_Recovery100k(benchmark::State& state) {
  BenchDir dir;
  {
    auto store = OpenStore(dir.path(), FsyncPolicy::kNever);
    const std::string value(kValueSize, 'r');
    for (int i = 0; i < 100000; ++i) {
      (void)store->Put(Key(i % 50000), value, Precondition::kNone, 0, nullptr);
    }
  }
  const auto size = std::filesystem::file_size(dir.path() + "/00000001.log");
  for (auto _ : state) {
    auto store = OpenStore(dir.path(), FsyncPolicy::kNever);
    state.PauseTiming();  // exclude close (it fdatasyncs)
    if (store->recovery().records != 100000) state.SkipWithError("bad record count");
    store.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_Recovery100k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace httpkv::storage

BENCHMARK_MAIN();
