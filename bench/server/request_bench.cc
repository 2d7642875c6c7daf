// Full request -> response handling without sockets: bytes in a reactor::Buffer, parsed
// by RequestParser, answered by KvRoutes against a real LogStore (fsync never) and
// serialized as HttpWorker does. Reports ns per request and heap allocations per request
// (global operator new replaced in this binary; only the benchmark thread is counted).
#include <benchmark/benchmark.h>

#include <string>

#include "tests/server/alloc_counter.h"
#include "tests/server/offline_server.h"

namespace httpkv::server {
namespace {

using httpkv::testing::AllocScope;
using testing::OfflineServer;

const std::string kGet =
    "GET /kv/user:42 HTTP/1.1\r\nHost: localhost:8080\r\n"
    "User-Agent: httpkv-bench\r\nAccept: */*\r\n\r\n";

std::string Put(char fill) {
  return "PUT /kv/user:42 HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: "
         "application/octet-stream\r\nContent-Length: 64\r\n\r\n" +
         std::string(64, fill);
}

// A typical ~700-byte browser GET.
std::string BrowserGet() {
  return "GET /kv/user:42 HTTP/1.1\r\n"
         "Host: localhost:8080\r\n"
         "Connection: keep-alive\r\n"
         "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", "
         "\"Not-A.Brand\";v=\"99\"\r\n"
         "sec-ch-ua-mobile: ?0\r\n"
         "sec-ch-ua-platform: \"Linux\"\r\n"
         "Upgrade-Insecure-Requests: 1\r\n"
         "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Safari/537.36\r\n"
         "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
         "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
         "Sec-Fetch-Site: none\r\n"
         "Sec-Fetch-Mode: navigate\r\n"
         "Sec-Fetch-User: ?1\r\n"
         "Sec-Fetch-Dest: document\r\n"
         "Accept-Encoding: gzip, deflate, br, zstd\r\n"
         "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
         "Cookie: session=4f2a9c1e7b3d4a5f8e6c0b1a2d3e4f5a; theme=dark\r\n\r\n";
}

// Runs `requests` (answered `per_feed` at a time) and reports ns and allocations per request.
void Run(benchmark::State& state, OfflineServer& srv, const std::string* feeds, size_t n_feeds,
         int per_feed) {
  // Warm-up: scratch strings and buffers reach their steady-state size.
  for (int i = 0; i < 100; ++i) {
    if (srv.Feed(feeds[i % n_feeds]) != per_feed) state.SkipWithError("unexpected answer count");
    srv.output().ConsumeAll();
  }
  uint64_t requests = 0;
  AllocScope allocs;
  size_t i = 0;
  for (auto _ : state) {
    const int answered = srv.Feed(feeds[i++ % n_feeds]);
    benchmark::DoNotOptimize(srv.output().peek());
    srv.output().ConsumeAll();  // as if written to the socket
    if (answered != per_feed) {
      state.SkipWithError("unexpected answer count");
      break;
    }
    requests += static_cast<uint64_t>(answered);
  }
  state.SetItemsProcessed(static_cast<int64_t>(requests));
  state.counters["ns_per_req"] = benchmark::Counter(
      static_cast<double>(requests), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs_per_req"] =
      requests ? static_cast<double>(allocs.allocs()) / static_cast<double>(requests) : 0.0;
  state.counters["last_status"] = srv.last_status();
}

OfflineServer& Server() {
  static OfflineServer* srv = [] {
    auto* s = new OfflineServer();
    if (!s->ok() || s->Feed(Put('a')) != 1) std::abort();
    s->output().ConsumeAll();
    return s;
  }();
  return *srv;
}

void BM_GetSmall(benchmark::State& state) {
  Run(state, Server(), &kGet, 1, 1);
}
BENCHMARK(BM_GetSmall);

void BM_GetBrowser700B(benchmark::State& state) {
  const std::string req = BrowserGet();
  Run(state, Server(), &req, 1, 1);
}
BENCHMARK(BM_GetBrowser700B);

// HEAD is answered from the index (no pread): the difference to GET is the value read.
void BM_HeadSmall(benchmark::State& state) {
  const std::string req = "HEAD /kv/user:42 HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";
  Run(state, Server(), &req, 1, 1);
}
BENCHMARK(BM_HeadSmall);

void BM_PutSmallOverwrite(benchmark::State& state) {
  const std::string reqs[2] = {Put('x'), Put('y')};
  Run(state, Server(), reqs, 2, 1);
}
BENCHMARK(BM_PutSmallOverwrite);

void BM_Pipelined16Gets(benchmark::State& state) {
  std::string batch;
  for (int i = 0; i < 16; ++i) batch += kGet;
  Run(state, Server(), &batch, 1, 16);
}
BENCHMARK(BM_Pipelined16Gets);

}  // namespace
}  // namespace httpkv::server

BENCHMARK_MAIN();
