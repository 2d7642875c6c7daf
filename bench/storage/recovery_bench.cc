// Recovery speed on ~1 GiB of data (16 segments of 64 MiB), with and without hint files.
// Generates the data once under $TMPDIR and deletes it at exit. Page cache is warm (the data
// was just written), so this measures CPU-bound recovery, not the disk.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/storage/bench_util.h"

namespace httpkv::storage {
namespace {

using bench::Key16;
constexpr uint64_t kDataBytes = uint64_t{1} << 30;
constexpr size_t kValueSize = 256;

struct Dataset {
  bench::BenchDir dir;
  uint64_t records = 0;
  Dataset() {
    Options opts;
    opts.dir = dir.path();
    opts.fsync = FsyncPolicy::kNever;
    opts.compact_dead_ratio = 1.0;  // keep every record: recovery has to read them all
    auto store = bench::OpenOrAbort(opts);
    const std::string value(kValueSize, 'r');
    while (store->stats().disk_bytes < kDataBytes) {
      // 4M distinct keys, ~1/4 of the records overwrite an older one.
      (void)store->Put(Key16(records * 7 % 4'000'000), value, Precondition::kNone, 0, nullptr);
      ++records;
    }
    // Let the maintenance thread write the hints of the sealed segments.
    const auto segs = store->stats().segments;
    auto hints = [&] {
      size_t n = 0;
      for (const auto& de : std::filesystem::directory_iterator(dir.path())) {
        n += de.path().extension() == ".hint";
      }
      return n;
    };
    while (hints() + 1 < segs) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  void SetHints(bool on) { bench::SetHints(dir.path(), on); }
};

Dataset& Data() {
  static Dataset data;
  return data;
}

void BM_Recovery1GiB(benchmark::State& state, bool hints) {
  Dataset& data = Data();
  data.SetHints(hints);
  Options opts;
  opts.dir = data.dir.path();
  opts.fsync = FsyncPolicy::kNever;
  opts.compact_dead_ratio = 1.0;
  uint64_t bytes = 0;
  RecoveryReport rep;
  for (auto _ : state) {
    auto store = bench::OpenOrAbort(opts);
    state.PauseTiming();
    rep = store->recovery();
    bytes = store->stats().disk_bytes;
    store.reset();
    data.SetHints(hints);  // the store may have rewritten hints it found missing
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rep.records));
  state.counters["records"] = static_cast<double>(rep.records);
  state.counters["keys"] = static_cast<double>(rep.live_keys);
  state.counters["from_hints"] = static_cast<double>(rep.segments_from_hints);
  state.counters["scanned_MB"] = static_cast<double>(rep.bytes_scanned) / 1e6;
  state.counters["hint_MB"] = static_cast<double>(rep.hint_bytes) / 1e6;
  data.SetHints(true);
}
BENCHMARK_CAPTURE(BM_Recovery1GiB, with_hints, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Recovery1GiB, without_hints, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace httpkv::storage

BENCHMARK_MAIN();
