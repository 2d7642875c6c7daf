// Deadlines, the connection cap and group commit, over real sockets. Timeouts are set
// to fractions of a second; each test blocks on the server's own action (an answer or
// EOF), so timing only decides how fast the test ends, not whether it passes.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

using std::chrono::milliseconds;

server::ServerOptions Short(const TempDir& dir) {
  auto o = InProcessServer::Options(dir.path(), 1);
  o.timeouts.idle = milliseconds(300);
  o.timeouts.header = milliseconds(300);
  o.timeouts.body = milliseconds(300);
  o.timeouts.write = milliseconds(300);
  return o;
}

TEST(Timeouts, IdleKeepAliveConnectionIsClosed) {
  TempDir dir;
  InProcessServer srv(Short(dir));
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.Send(BuildRequest("GET", "/healthz"));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_TRUE(c.AtEof());  // closed by the idle deadline, no answer
}

TEST(Timeouts, SlowHeadGets408EvenWhileTrickling) {
  TempDir dir;
  InProcessServer srv(Short(dir));
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.Send("GET /healthz HTTP/1.1\r\n");
  // Keep sending header bytes: progress must not extend the head deadline (slowloris).
  Reply r;
  for (int i = 0; i < 1000 && r.status == 0; ++i) {
    c.Send("X-A: b\r\n");
    r = c.ReadIfAvailable();
  }
  if (r.status == 0) r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_TRUE(c.AtEof());
}

TEST(Timeouts, StalledBodyGets408) {
  TempDir dir;
  InProcessServer srv(Short(dir));
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  c.Send("PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(c.Read().status, 408);
  EXPECT_TRUE(c.AtEof());
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/slow").status, 404);
}

TEST(Timeouts, ConnectionCapAnswers503) {
  TempDir dir;
  auto o = InProcessServer::Options(dir.path(), 1);
  o.max_connections = 3;
  InProcessServer srv(o);
  ASSERT_TRUE(srv.ok());
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(srv.port()));
    held.back()->Send(BuildRequest("GET", "/healthz"));
    ASSERT_EQ(held.back()->Read().status, 200);  // accepted and served
  }
  RawClient extra(srv.port());
  Reply r = extra.Read();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(extra.AtEof());
  held.pop_back();  // closing one makes room (the server sees the close first)
  Reply after;
  for (int i = 0; i < 100 && after.status != 200; ++i) {
    RawClient again(srv.port());
    again.Send(BuildRequest("GET", "/healthz"));
    after = again.Read();
  }
  EXPECT_EQ(after.status, 200);
}

TEST(GroupCommit, PipelinedWritesUnderFsyncAlwaysAreAnsweredAndDurable) {
  TempDir dir;
  {
    InProcessServer srv(dir.path(), 2, storage::FsyncPolicy::kAlways);
    ASSERT_TRUE(srv.ok());
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int c = 0; c < 4; ++c) {
      clients.push_back(std::make_unique<RawClient>(srv.port()));
      std::string batch;
      for (int i = 0; i < 50; ++i) {
        batch += BuildRequest("PUT", "/kv/c" + std::to_string(c) + "-" + std::to_string(i), "v");
      }
      clients.back()->Send(batch);
    }
    for (auto& c : clients) {
      for (int i = 0; i < 50; ++i) ASSERT_EQ(c->Read().status, 201);
    }
    const auto st = srv.store()->stats();
    EXPECT_GE(st.fsyncs, 1u);
    EXPECT_LT(st.fsyncs, 200u);  // grouped: far fewer fsyncs than writes
  }
  InProcessServer again(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.store()->stats().keys, 200u);
}

}  // namespace
}  // namespace httpkv::e2e
