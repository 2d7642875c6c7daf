// The change feed under load and its edges: a slow watcher is cut off and closed at once
// (memory stays bounded), 1,000 watchers each get every event, --fsync always sends an event
// only once the write is durable, and expiry (reads, listings, events, restart, compaction).
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/e2e/feed_stream.h"
#include "tests/e2e/test_server.h"
#include "tests/storage/fault_fs.h"

namespace httpkv::e2e {
namespace {

// The value of one metric line ("name value"), or -1 when absent.
int64_t MetricValue(uint16_t port, const std::string& name) {
  const std::string body = Request(port, "GET", "/metrics").body;
  const size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(body.substr(at + name.size() + 2));
}

// A watcher that does not read is cut once its output is full and it trails by more than
// --feed-max-lag, and it is gone at once (issue 21): the server drops its unsent output and
// closes, rather than keeping the connection (and ~1 MiB) until the peer reads it all.
TEST(FeedLoadTest, SlowWatcherIsClosedAtOnceWhenCut) {
  TempDir dir;
  server::ServerOptions opts = InProcessServer::Options(dir.path());
  opts.feed_max_lag = 50;
  InProcessServer srv(opts);
  ASSERT_TRUE(srv.ok());
  FeedStream slow(srv.port(), /*rcvbuf=*/4096);
  ASSERT_EQ(slow.Open("watch=1"), 200);
  // The watcher reads nothing while 32 MiB of values are written. Every key is new, so no
  // record is dead and no compaction can move the horizon past the watcher first (that
  // would close it as "history lost", not as too slow).
  const std::string value(64 * 1024, 'v');
  RawClient writer(srv.port());
  uint64_t written = 0;
  for (int i = 0; i < 512; ++i) {
    writer.Send(BuildRequest("PUT", "/kv/k" + std::to_string(i), value));
    ASSERT_EQ(writer.Read().status / 100, 2);
    written += value.size();
  }
  // Still not reading: the server has closed it (the metric counts open watchers).
  for (int i = 0; i < 1000 && MetricValue(srv.port(), "httpkv_feed_watchers") != 0; ++i) {
    pollfd none{};
    ::poll(&none, 0, 10);  // re-check the condition every 10 ms, for at most 10 s
  }
  EXPECT_EQ(MetricValue(srv.port(), "httpkv_feed_watchers"), 0);
  EXPECT_EQ(MetricValue(srv.port(), "httpkv_feed_watchers_cut_total"), 1);
  // Reading now: what the socket buffers held, then the end; far from the 32 MiB written.
  FeedEvent ev;
  uint64_t events = 0;
  while ((ev = slow.Next()).ok && ev.comment.empty()) ++events;
  EXPECT_LT(events, 512u);
  EXPECT_LT(slow.bytes_read(), written / 4);
}

TEST(FeedLoadTest, AThousandWatchersEachGetEveryEvent) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  std::vector<std::unique_ptr<FeedStream>> ws;
  for (int i = 0; i < 1000; ++i) {
    ws.push_back(std::make_unique<FeedStream>(srv.port()));
    ws.back()->Request("watch=1&since=0");
  }
  for (auto& w : ws) ASSERT_EQ(w->ReadHead(), 200);
  Reply m = Request(srv.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("httpkv_feed_watchers 1000\n"), std::string::npos);
  for (int i = 0; i < 3; ++i) Request(srv.port(), "PUT", "/kv/k" + std::to_string(i), "v");
  for (auto& w : ws) {
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      FeedEvent ev = w->NextEvent();
      ASSERT_TRUE(ev.ok);
      ASSERT_EQ(ev.id, seq);
    }
  }
}

// A store under --fsync always whose log fdatasyncs can be held: while `hold` is set, a sync
// waits (and `holding` says one is waiting) until the test clears it.
struct HeldSyncStore {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false, holding = false;
  storage::testing::FaultFileSystem fs;
  std::unique_ptr<storage::LogStore> store;

  storage::Status Open() {
    storage::Options so;
    so.dir = dir.path();
    so.fsync = storage::FsyncPolicy::kAlways;
    so.group_commit = true;
    fs.SetHook([this](storage::testing::FsOp op, const std::string&) {
      if (op != storage::testing::FsOp::kSync) return storage::Status::OK();
      std::unique_lock lock(mu);
      if (hold) {
        holding = true;
        cv.notify_all();
        cv.wait(lock, [&] { return !hold; });
      }
      return storage::Status::OK();
    });
    so.fs = &fs;
    return storage::LogStore::Open(so, &store);
  }
  void SetHold(bool on) {
    {
      std::lock_guard lock(mu);
      hold = on;
    }
    cv.notify_all();
  }
  // A server (2 threads, --fsync always) on this store, started on a free port.
  std::unique_ptr<server::HttpServer> Serve() {
    auto srv = std::make_unique<server::HttpServer>(
        InProcessServer::Options(dir.path(), 2, storage::FsyncPolicy::kAlways));
    std::string error;
    if (!srv->Bind(&error)) return nullptr;
    srv->Start(store.get());
    return srv;
  }
};

// --fsync always: a write's event waits for the fdatasync that makes it durable.
TEST(FeedLoadTest, FsyncAlwaysSendsOnlyDurableWrites) {
  HeldSyncStore held;
  ASSERT_TRUE(held.Open().ok());
  std::mutex& mu = held.mu;
  std::condition_variable& cv = held.cv;
  auto& store = held.store;
  auto srv = held.Serve();
  ASSERT_NE(srv, nullptr);
  const uint16_t port = srv->address().port();
  FeedStream w(port);
  ASSERT_EQ(w.Open("watch=1&since=0"), 200);
  held.SetHold(true);
  RawClient writer(port);
  writer.Send(BuildRequest("PUT", "/kv/d", "durable"));
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return held.holding; });  // the sync covering the write is in progress
  }
  EXPECT_EQ(store->LastSeq(), 1u);
  EXPECT_EQ(store->FeedSeq(), 0u);
  // Not durable: neither the acknowledgement nor the event may have been sent.
  pollfd p[2] = {{w.fd(), POLLIN, 0}, {-1, POLLIN, 0}};
  EXPECT_EQ(::poll(p, 1, 100), 0);
  held.SetHold(false);
  EXPECT_EQ(writer.Read().status, 201);
  FeedEvent ev = w.NextEvent();
  ASSERT_TRUE(ev.ok);
  EXPECT_EQ(ev.id, 1u);
  EXPECT_GE(store->FeedSeq(), 1u);
  srv->Drain();
}

// --fsync always with a client that closes after its request (Connection: close, as
// HTTP/1.0 clients and Python's urllib send): the answer is still held until the fdatasync
// that makes the write durable. (It once left at once: closing flushed before the hold.)
TEST(FeedLoadTest, FsyncAlwaysHoldsTheAckOfAClosingConnection) {
  HeldSyncStore held;
  ASSERT_TRUE(held.Open().ok());
  std::mutex& mu = held.mu;
  std::condition_variable& cv = held.cv;
  auto& store = held.store;
  auto srv = held.Serve();
  ASSERT_NE(srv, nullptr);
  const uint16_t port = srv->address().port();
  held.SetHold(true);
  RawClient writer(port);
  writer.Send(BuildRequest("PUT", "/kv/d", "durable", "Connection: close\r\n"));
  bool started;
  {
    std::unique_lock lock(mu);
    // The sync covering the write is in progress (bounded: a server that answered at once
    // never asks for one).
    started = cv.wait_for(lock, std::chrono::seconds(10), [&] { return held.holding; });
    if (!started) held.hold = false;  // let the server's closing sync through
  }
  ASSERT_TRUE(started) << "no fdatasync was asked for; answer: " << writer.Read().status;
  EXPECT_EQ(store->LastSeq(), 1u);
  // Not durable: no byte of the acknowledgement may have been sent.
  EXPECT_FALSE(writer.WaitReadable(100));
  held.SetHold(false);
  EXPECT_EQ(writer.Read().status, 201);
  EXPECT_GE(store->FeedSeq(), 1u);
  srv->Drain();
}

TEST(FeedLoadTest, ExpiryReadsListingsEventsRestartAndCompaction) {
  TempDir dir;
  uint64_t expire_seq = 0;
  {
    InProcessServer srv(dir.path());
    ASSERT_TRUE(srv.ok());
    EXPECT_EQ(Request(srv.port(), "PUT", "/kv/t?ttl=0", "v").status, 400);
    EXPECT_EQ(Request(srv.port(), "PUT", "/kv/t?ttl=-1", "v").status, 400);
    EXPECT_EQ(Request(srv.port(), "PUT", "/kv/t?ttl=1x", "v").status, 400);
    EXPECT_EQ(Request(srv.port(), "PUT", "/kv/t?ttl=99999999999999999999999", "v").status, 400);
    EXPECT_EQ(Request(srv.port(), "POST", "/create?ttl=", "c:1").status, 400);
    FeedStream w(srv.port());
    ASSERT_EQ(w.Open("watch=1"), 200);
    ASSERT_EQ(Request(srv.port(), "PUT", "/kv/t?ttl=1", "v").status, 201);
    ASSERT_EQ(Request(srv.port(), "POST", "/create?ttl=3600", "c:1").status, 201);
    ASSERT_EQ(Request(srv.port(), "PUT", "/kv/plain", "p").status, 201);
    Reply r = Request(srv.port(), "GET", "/kv/t");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("X-Expires-In"), "1");
    EXPECT_EQ(Request(srv.port(), "HEAD", "/kv/c").Header("X-Expires-In"), "3600");
    EXPECT_EQ(Request(srv.port(), "GET", "/kv/plain").Header("X-Expires-In"), "");
    FeedEvent put_t = w.NextEvent(), put_c = w.NextEvent(), put_p = w.NextEvent();
    EXPECT_EQ(put_t.event, "put");
    // The expiry arrives by itself, about a second later, without anyone reading the key.
    FeedEvent ex = w.NextEvent();
    ASSERT_TRUE(ex.ok);
    EXPECT_EQ(ex.event, "expire");
    EXPECT_EQ(ex.data, R"({"key":"t","seq":)" + std::to_string(ex.id) + "}");
    expire_seq = ex.id;
    EXPECT_EQ(Request(srv.port(), "GET", "/kv/t").status, 404);
    EXPECT_EQ(Request(srv.port(), "GET", "/").body, "c:1\nplain:p\n");
    EXPECT_EQ(Request(srv.port(), "PUT", "/update", "t:x").status, 404);
  }
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/t").status, 404);
  ASSERT_TRUE(srv.store()->Compact().ok());
  EXPECT_GE(srv.store()->SeqHorizon(), expire_seq);  // the put and its tombstone are gone
  EXPECT_EQ(srv.store()->stats().dead_bytes, 0u);
  EXPECT_EQ(Request(srv.port(), "GET", "/").body, "c:1\nplain:p\n");
}

}  // namespace
}  // namespace httpkv::e2e
