// pread vs mmap for reading one record from a sealed segment (the choice LogStore made:
// pread). Random 120-byte reads from a 64 MiB file in the page cache, one value per
// iteration, copied out as Get does.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "bench/storage/bench_util.h"

namespace httpkv::storage {
namespace {

constexpr size_t kFileBytes = 64 << 20;
constexpr size_t kRecord = 120;

struct SegmentFile {
  bench::BenchDir dir;
  int fd = -1;
  std::vector<uint64_t> offsets;
  SegmentFile() {
    const std::string path = dir.path() + "/00000001.log";
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    std::string block(1 << 20, 'x');
    for (size_t i = 0; i < kFileBytes / block.size(); ++i) {
      if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()))
        std::abort();
    }
    std::mt19937_64 rng(1);
    for (int i = 0; i < 4096; ++i) offsets.push_back(rng() % (kFileBytes - kRecord));
  }
  ~SegmentFile() { ::close(fd); }
};

SegmentFile& File() {
  static SegmentFile f;
  return f;
}

void BM_Pread(benchmark::State& state) {
  SegmentFile& f = File();
  std::string value(kRecord, '\0');
  size_t i = 0;
  for (auto _ : state) {
    const uint64_t off = f.offsets[i++ & 4095];
    if (::pread(f.fd, value.data(), kRecord, static_cast<off_t>(off)) != kRecord) std::abort();
    benchmark::DoNotOptimize(value.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Mmap(benchmark::State& state) {
  SegmentFile& f = File();
  void* map = ::mmap(nullptr, kFileBytes, PROT_READ, MAP_SHARED, f.fd, 0);
  if (map == MAP_FAILED) std::abort();
  const char* base = static_cast<const char*>(map);
  std::string value(kRecord, '\0');
  size_t i = 0;
  for (auto _ : state) {
    const uint64_t off = f.offsets[i++ & 4095];
    value.assign(base + off, kRecord);
    benchmark::DoNotOptimize(value.data());
  }
  ::munmap(map, kFileBytes);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Pread)->Threads(1)->Threads(2);
BENCHMARK(BM_Mmap)->Threads(1)->Threads(2);

}  // namespace
}  // namespace httpkv::storage

BENCHMARK_MAIN();
