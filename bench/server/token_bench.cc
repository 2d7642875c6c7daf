// TokenSet::Find timing (server/auth/token_set.h): the comparison must take the same time however
// much of the presented token is right. Each case presents a 32-byte token to a set of
// `tokens` stored 32-byte tokens, one of which shares the first `right` bytes with it
// (right = 32: the token is known). Equal times across `right` (and between a hit and a
// miss) are the point; the absolute number is the per-request cost of --auth-file.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DHTTPKV_BUILD_BENCH=ON
//   cmake --build build-bench -j2 --target token_bench
//   build-bench/bench/server/token_bench --benchmark_repetitions=10
//       --benchmark_report_aggregates_only=true
//
// A micro-benchmark on a shared, noisy machine: compare medians, not single runs.
#include <benchmark/benchmark.h>

#include <string>

#include "server/auth/token_set.h"

namespace httpkv::server {
namespace {

void BM_Find(benchmark::State& state) {
  const auto right = static_cast<size_t>(state.range(0));
  const auto tokens = static_cast<int>(state.range(1));
  const std::string secret = "Wm5t8ZkQe2Rj7vNc1yXp4bHs9aLd3fGu";
  TokenSet set;
  for (int i = 0; i < tokens - 1; ++i) {
    set.Add("other-token-" + std::to_string(1000000 + i) + "-padding-xyz", Scope::kRead, "o");
  }
  set.Add(secret, Scope::kWrite, "s");
  std::string presented = secret;
  for (size_t i = right; i < presented.size(); ++i) presented[i] = presented[i] == 'A' ? 'B' : 'A';
  const bool expect_hit = right == secret.size();
  for (auto _ : state) {
    const TokenSet::Entry* e = set.Find(presented);
    benchmark::DoNotOptimize(e);
    if ((e != nullptr) != expect_hit) state.SkipWithError("wrong answer");
  }
}
BENCHMARK(BM_Find)->ArgsProduct({{0, 1, 8, 16, 31, 32}, {1, 8}});

// A presented token of another length than the stored one.
void BM_FindLength(benchmark::State& state) {
  TokenSet set;
  set.Add(std::string(32, 'k'), Scope::kRead, "k");
  const std::string presented(static_cast<size_t>(state.range(0)), 'k');
  for (auto _ : state) benchmark::DoNotOptimize(set.Find(presented));
}
BENCHMARK(BM_FindLength)->Arg(1)->Arg(31)->Arg(32)->Arg(33)->Arg(256);

}  // namespace
}  // namespace httpkv::server

BENCHMARK_MAIN();
