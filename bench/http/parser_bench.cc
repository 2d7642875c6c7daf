// Request parsing cost (small GET, realistic browser GET, 16 pipelined requests) and
// response serialization cost.
#include <benchmark/benchmark.h>

#include <string>

#include "http/request_parser.h"
#include "http/response_writer.h"

namespace httpkv::http {
namespace {

const std::string kSmallGet =
    "GET /kv/user:1234 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: httpkv-bench\r\n"
    "Accept: */*\r\n\r\n";

const std::string kBrowserGet =
    "GET /kv/session%3Aabcdef0123456789?fields=name,email&limit=10 HTTP/1.1\r\n"
    "Host: www.example.com:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;"
    "q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.7,de;q=0.3\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://www.example.com/dashboard/overview?tab=keys\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: sessionid=3f2a9c0e7b4d41a8b2f6e5c9d1a7b3e0; csrftoken=Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8L;"
    " theme=dark; _ga=GA1.2.1234567890.1700000000\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "If-None-Match: \"5d8c72a5edda8d6a\"\r\n"
    "Cache-Control: max-age=0\r\n\r\n";

void ParseOnce(benchmark::State& state, const std::string& input) {
  std::string buf = input;
  Limits limits;
  RequestParser parser(&limits);
  static Request req;
  for (auto _ : state) {
    parser.Reset();
    ParseResult r = parser.Parse(std::span<char>(buf.data(), buf.size()), &req);
    benchmark::DoNotOptimize(r);
    if (r.kind != ParseResult::kComplete) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}

void BM_SmallGet(benchmark::State& state) {
  ParseOnce(state, kSmallGet);
}
void BM_BrowserGet(benchmark::State& state) {
  state.SetLabel(std::to_string(kBrowserGet.size()) + " bytes");
  ParseOnce(state, kBrowserGet);
}

// 16 pipelined requests (a mix of GET and PUT with a body) parsed back to back.
void BM_Pipelined16(benchmark::State& state) {
  std::string buf;
  for (int i = 0; i < 16; ++i) {
    buf += i % 4 == 3 ? "PUT /kv/key" + std::to_string(i) +
                            " HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n0123456789abcdef"
                      : kSmallGet;
  }
  Limits limits;
  RequestParser parser(&limits);
  static Request req;
  for (auto _ : state) {
    std::span<char> rest(buf.data(), buf.size());
    for (int i = 0; i < 16; ++i) {
      parser.Reset();
      ParseResult r = parser.Parse(rest, &req);
      benchmark::DoNotOptimize(r);
      rest = rest.subspan(r.consumed);
    }
    if (!rest.empty()) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations() * 16);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}

// Serializing a typical GET answer (status line, cached Date, ETag, type, length, body)
// into a warm output buffer.
void BM_ResponseWriter(benchmark::State& state) {
  reactor::Buffer out;
  const std::string value(64, 'v');
  for (auto _ : state) {
    ResponseWriter w(&out);
    w.Start(200);
    w.Header("ETag", "\"2a\"");
    w.Finish("application/octet-stream", value);
    benchmark::DoNotOptimize(out.peek());
    out.ConsumeAll();
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_SmallGet);
BENCHMARK(BM_BrowserGet);
BENCHMARK(BM_Pipelined16);
BENCHMARK(BM_ResponseWriter);

}  // namespace
}  // namespace httpkv::http

BENCHMARK_MAIN();
