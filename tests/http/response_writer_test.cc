// Exact response bytes, and zero allocations once the output Buffer is warm.
#include "http/response_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <regex>
#include <string>

#include "http/http_date.h"
#include "http/status.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counting global allocator for this test binary only. GCC 12 at -O2 cannot see that
// these replaced operators pair malloc with free, hence the pragma.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace httpkv::http {
namespace {

// Replaces the Date value with a fixed one after checking its IMF-fixdate shape.
std::string Normalize(const reactor::Buffer& b) {
  static const std::regex kDate(
      "Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
      "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} "
      "GMT\r\n");
  std::string s(b.view());
  EXPECT_TRUE(std::regex_search(s, kDate)) << s;
  return std::regex_replace(s, kDate, "Date: D\r\n");
}

TEST(ResponseWriter, SimpleBody) {
  reactor::Buffer b;
  ResponseWriter w(&b);
  w.Start(200);
  w.Header("ETag", "\"abc\"");
  w.Finish("text/plain", "hello");
  EXPECT_EQ(Normalize(b),
            "HTTP/1.1 200 OK\r\nDate: D\r\nETag: \"abc\"\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5\r\n\r\nhello");
}

TEST(ResponseWriter, ConnectionHeadersAndNumbers) {
  reactor::Buffer b;
  ResponseWriter w(&b);
  w.Start(404, ConnectionHeader::kClose);
  w.HeaderNumber("X-Count", 18446744073709551615ull);
  w.Finish("", "");
  w.Start(201, ConnectionHeader::kKeepAlive);
  w.Header("Location", "/kv/a");
  w.Finish("", "");
  EXPECT_EQ(Normalize(b),
            "HTTP/1.1 404 Not Found\r\nDate: D\r\nConnection: close\r\n"
            "X-Count: 18446744073709551615\r\nContent-Length: 0\r\n\r\n"
            "HTTP/1.1 201 Created\r\nDate: D\r\nConnection: keep-alive\r\nLocation: /kv/a\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(ResponseWriter, HeadKeepsContentLength) {
  reactor::Buffer b;
  ResponseWriter w(&b);
  w.Start(200);
  w.Finish("application/octet-stream", "0123456789", /*head_only=*/true);
  EXPECT_EQ(Normalize(b),
            "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 10\r\n\r\n");
}

TEST(ResponseWriter, NoBodyStatuses) {
  reactor::Buffer b;
  ResponseWriter w(&b);
  w.Start(204);
  w.FinishNoBody();
  w.Start(304);
  w.Header("ETag", "\"v1\"");
  w.FinishNoBody();
  EXPECT_EQ(Normalize(b),
            "HTTP/1.1 204 No Content\r\nDate: D\r\n\r\n"
            "HTTP/1.1 304 Not Modified\r\nDate: D\r\nETag: \"v1\"\r\n\r\n");
}

TEST(ResponseWriter, ChunkedStreaming) {
  reactor::Buffer b;
  ResponseWriter w(&b);
  w.Start(200);
  w.FinishChunkedHead("text/plain");
  w.Chunk("a:1\n");
  w.Chunk("");  // ignored: an empty chunk would end the body
  w.Chunk(std::string(300, 'x'));
  w.EndChunks();
  EXPECT_EQ(Normalize(b),
            "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: text/plain\r\n"
            "Transfer-Encoding: chunked\r\n\r\n4\r\na:1\n\r\n12c\r\n" +
                std::string(300, 'x') + "\r\n0\r\n\r\n");
}

TEST(ResponseWriter, Continue) {
  reactor::Buffer b;
  ResponseWriter::WriteContinue(&b);
  EXPECT_EQ(b.view(), "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(ResponseWriter, UnknownStatusAndPhrases) {
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(799), "Unknown");
  reactor::Buffer b;
  ResponseWriter w(&b);
  w.Start(599);
  w.FinishNoBody();
  EXPECT_EQ(Normalize(b), "HTTP/1.1 599 Unknown\r\nDate: D\r\n\r\n");
}

TEST(HttpDate, FormatsImfFixdate) {
  char buf[29];
  EXPECT_EQ(FormatHttpDate(784111777, buf), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(HttpDate().size(), 29u);
}

void WriteMany(reactor::Buffer* b, int n) {
  static const std::string body(100, 'v');
  for (int i = 0; i < n; ++i) {
    ResponseWriter w(b);
    w.Start(i % 2 ? 200 : 404, ConnectionHeader::kKeepAlive);
    w.Header("ETag", "\"0123456789abcdef\"");
    w.HeaderNumber("X-Seq", static_cast<uint64_t>(i));
    w.Finish("text/plain", body, i % 3 == 0);
    w.Start(200);
    w.FinishChunkedHead("text/plain");
    w.Chunk(body);
    w.EndChunks();
  }
}

TEST(ResponseWriter, NoAllocationsWithWarmBuffer) {
  reactor::Buffer b;
  WriteMany(&b, 1000);  // warm: grows the buffer and the thread's date cache
  const size_t bytes = b.readable_bytes();
  b.ConsumeAll();
  const long before = g_allocations.load();
  WriteMany(&b, 1000);
  const long after = g_allocations.load();
  EXPECT_EQ(after - before, 0);
  ::operator delete(::operator new(4));  // the counter works (direct calls are never elided)
  EXPECT_GT(g_allocations.load(), after);
  EXPECT_EQ(b.readable_bytes(), bytes);
}

}  // namespace
}  // namespace httpkv::http
