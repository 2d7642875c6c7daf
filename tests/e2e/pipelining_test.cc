// Pipelined requests: answered in order, and a batch read at once leaves in one send.
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

uint64_t MetricValue(const std::string& text, const std::string& name) {
  size_t pos = text.find("\n" + name + " ");
  if (pos == std::string::npos) return UINT64_MAX;
  return std::stoull(text.substr(pos + name.size() + 2));
}

TEST(Pipelining, ManyRequestsInOneWriteAreAnsweredInOrder) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch += BuildRequest("PUT", "/kv/k" + std::to_string(i), "v" + std::to_string(i));
  }
  for (int i = 0; i < 50; ++i) batch += BuildRequest("GET", "/kv/k" + std::to_string(i));
  batch += BuildRequest("HEAD", "/kv/k7");
  batch += BuildRequest("DELETE", "/kv/k0");
  RawClient c(srv.port());
  c.Send(batch);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(c.Read().status, 201) << i;
  for (int i = 0; i < 50; ++i) {
    Reply r = c.Read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "v" + std::to_string(i));
  }
  Reply head = c.Read(true);
  EXPECT_EQ(head.Header("Content-Length"), "2");
  EXPECT_EQ(c.Read().status, 204);
}

TEST(Pipelining, SameRequestsByteByByte) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.SendByteByByte(BuildRequest("POST", "/create", "a:1") + BuildRequest("GET", "/kv/a") +
                   BuildRequest("GET", "/"));
  EXPECT_EQ(c.Read().status, 201);
  EXPECT_EQ(c.Read().body, "1");
  EXPECT_EQ(c.Read().body, "a:1\n");
}

TEST(Pipelining, OneBatchLeavesInOneSend) {
  TempDir dir;
  InProcessServer srv(dir.path(), /*threads=*/1);  // one loop: metrics are read after the close
  ASSERT_TRUE(srv.ok());
  const uint64_t before = MetricValue(Request(srv.port(), "GET", "/metrics").body,
                                      "httpkv_closed_connection_send_calls_total");
  std::string batch;
  for (int i = 0; i < 15; ++i) batch += BuildRequest("GET", "/healthz");
  batch += BuildRequest("GET", "/healthz", {}, "Connection: close\r\n");
  RawClient c(srv.port());
  c.Send(batch);
  for (int i = 0; i < 16; ++i) ASSERT_EQ(c.Read().status, 200);
  EXPECT_TRUE(c.AtEof());
  const uint64_t after = MetricValue(Request(srv.port(), "GET", "/metrics").body,
                                     "httpkv_closed_connection_send_calls_total");
  // The metrics connection before counts 1 send; the pipelined one must add exactly 1.
  EXPECT_EQ(after - before, 2u);
}

TEST(Pipelining, ErrorStopsThePipeline) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.Send(BuildRequest("GET", "/healthz") + "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" +
         BuildRequest("DELETE", "/kv/never"));
  EXPECT_EQ(c.Read().status, 200);
  Reply bad = c.Read();
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Header("Connection"), "close");
  EXPECT_EQ(c.ReadToEof(), "");  // the request after the bad one is never answered
}

TEST(Pipelining, HalfClosedClientStillGetsItsAnswers) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.Send(BuildRequest("PUT", "/kv/h", "1") + BuildRequest("GET", "/kv/h"));
  c.ShutdownWrite();
  EXPECT_EQ(c.Read().status, 201);
  EXPECT_EQ(c.Read().body, "1");
  EXPECT_TRUE(c.AtEof());
}

TEST(Pipelining, Http10ClosesUnlessKeepAlive) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  {
    RawClient c(srv.port());
    c.Send("GET /healthz HTTP/1.0\r\n\r\n");
    Reply r = c.Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("Connection"), "close");
    EXPECT_TRUE(c.AtEof());
  }
  RawClient c(srv.port());
  c.Send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  Reply r = c.Read();
  EXPECT_EQ(r.Header("Connection"), "keep-alive");
  c.Send("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_TRUE(c.AtEof());
}

TEST(Pipelining, ExpectContinue) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.Send("PUT /kv/e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  // The interim response arrives before we send the body.
  EXPECT_EQ(c.ReadHead(), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("abc");
  EXPECT_EQ(c.Read().status, 201);
  RawClient d(srv.port());
  d.Send("PUT /create HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  Reply r = d.Read();
  EXPECT_EQ(r.status, 405);  // rejected without asking for the body
  EXPECT_TRUE(d.AtEof());
}

}  // namespace
}  // namespace httpkv::e2e

namespace httpkv::e2e {
namespace {

// Polls /metrics until the server has read `sent` bytes in all (one thread: every byte
// counted was handled before the metrics answer was rendered). Returns what it sent.
size_t WaitUntilRead(uint16_t port, size_t sent) {
  const std::string req = BuildRequest("GET", "/metrics");
  for (int i = 0; i < 1000; ++i) {
    sent += req.size();
    const Reply r = Request(port, "GET", "/metrics");
    if (MetricValue(r.body, "httpkv_received_bytes_total") >= sent) return sent;
  }
  ADD_FAILURE() << "the server never read " << sent << " bytes";
  return sent;
}

// One worker serves connections in turn with one scratch Request: a head parsed for one
// connection must not be judged with another connection's head later. B's head arrives,
// another connection's head fills the scratch request, then B's body arrives in parts.
TEST(Interleaving, ABodyArrivingLaterIsJudgedByItsOwnHead) {
  const std::pair<std::string, int> others[] = {
      // A Host holding a path: 400 (server/routes/host_path.h).
      {"POST / HTTP/1.1\r\nHost: 127.0.0.1/create\r\nContent-Length: 0\r\n\r\n", 400},
      // Expect on a route that does not exist: 404 instead of 100 Continue.
      {"PUT /nowhere HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n",
       404},
  };
  for (const auto& [other, other_status] : others) {
    SCOPED_TRACE(other);
    TempDir dir;
    InProcessServer srv(dir.path(), /*threads=*/1);
    ASSERT_TRUE(srv.ok());
    RawClient b(srv.port());
    const std::string b_head = "PUT /kv/b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n";
    b.Send(b_head);
    size_t sent = WaitUntilRead(srv.port(), b_head.size());
    {
      RawClient a(srv.port());
      a.Send(other);
      ASSERT_EQ(a.Read().status, other_status);
    }
    b.Send("x");
    WaitUntilRead(srv.port(), sent + other.size() + 1);
    b.Send("y");
    const Reply r = b.Read();
    EXPECT_EQ(r.status, 201) << r.head << r.body;
    EXPECT_EQ(Request(srv.port(), "GET", "/kv/b").body, "xy");
  }
}

}  // namespace
}  // namespace httpkv::e2e
