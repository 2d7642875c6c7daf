// The change feed over real sockets: history, live tail across threads, prefix filter,
// resume across a restart with Last-Event-ID (no gap, no repeat), horizon and 410, X-Seq.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/e2e/feed_stream.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

std::string Key(const FeedEvent& ev) {  // "key" field of the data line (test keys: no escapes)
  const size_t at = ev.data.find("\"key\":\"") + 7;
  return ev.data.substr(at, ev.data.find('"', at) - at);
}

TEST(FeedTest, HistoryThenLiveTailWithSseFraming) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  Reply put = Request(srv.port(), "PUT", "/kv/a", "1");
  EXPECT_EQ(put.Header("X-Seq"), "1");
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/b", "two \"quoted\"\n").status, 201);
  ASSERT_EQ(Request(srv.port(), "DELETE", "/kv/a").status, 204);
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/b").Header("X-Seq"), "3");
  EXPECT_EQ(Request(srv.port(), "GET", "/").Header("X-Seq"), "3");

  FeedStream w(srv.port());
  ASSERT_EQ(w.Open("watch=1&since=0"), 200);
  EXPECT_EQ(w.Header("Content-Type"), "text/event-stream");
  EXPECT_EQ(w.Header("Transfer-Encoding"), "chunked");
  FeedEvent e1 = w.NextEvent(), e2 = w.NextEvent(), e3 = w.NextEvent();
  EXPECT_EQ(e1.id, 1u);
  EXPECT_EQ(e1.event, "put");
  EXPECT_EQ(e1.data, R"({"key":"a","seq":1,"value":"1"})");
  EXPECT_EQ(e2.data, R"({"key":"b","seq":2,"value":"two \"quoted\"\n"})");
  EXPECT_EQ(e3.event, "delete");
  EXPECT_EQ(e3.data, R"({"key":"a","seq":3})");
  // Live: writes on other connections (and reactor threads) arrive in SEQ order.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Request(srv.port(), "PUT", "/kv/k" + std::to_string(i), "v").status, 201);
  }
  for (uint64_t i = 0; i < 20; ++i) {
    FeedEvent ev = w.NextEvent();
    ASSERT_TRUE(ev.ok);
    EXPECT_EQ(ev.id, 4 + i);
    EXPECT_EQ(Key(ev), "k" + std::to_string(i));
  }
}

TEST(FeedTest, DefaultSinceIsNowAndPrefixFilters) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/x/old", "1").status, 201);
  FeedStream w(srv.port());
  ASSERT_EQ(w.Open("watch=1&prefix=x%2F"), 200);
  EXPECT_EQ(w.Header("X-Seq"), "1");  // where it starts
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/y/1", "no").status, 201);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/x/1", "yes").status, 201);
  ASSERT_EQ(Request(srv.port(), "DELETE", "/kv/y/1").status, 204);
  ASSERT_EQ(Request(srv.port(), "DELETE", "/kv/x/old").status, 204);
  FeedEvent a = w.NextEvent(), b = w.NextEvent();
  EXPECT_EQ(a.id, 3u);
  EXPECT_EQ(Key(a), "x/1");
  EXPECT_EQ(b.id, 5u);
  EXPECT_EQ(b.event, "delete");
  EXPECT_EQ(Key(b), "x/old");
}

// One reactor thread, so every watcher is woken by the same wake-up, which renders a batch once
// for watchers that are level with each other: a watcher with another prefix or another cursor
// must still get exactly its own events.
TEST(FeedTest, WatchersOnOneThreadGetTheirOwnEventsWhateverTheirNeighbours) {
  TempDir dir;
  InProcessServer srv(dir.path(), 1);
  ASSERT_TRUE(srv.ok());
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/x1", "1").status, 201);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/y1", "2").status, 201);
  FeedStream all(srv.port()), level(srv.port()), only_x(srv.port()), later(srv.port());
  ASSERT_EQ(all.Open("watch=1&since=0"), 200);
  ASSERT_EQ(level.Open("watch=1&since=0"), 200);
  ASSERT_EQ(only_x.Open("watch=1&since=0&prefix=x"), 200);
  ASSERT_EQ(later.Open("watch=1&since=2"), 200);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/x2", "3").status, 201);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/y2", "4").status, 201);
  auto ids = [](FeedStream& w, int n) {
    std::vector<uint64_t> got;
    for (int i = 0; i < n; ++i) {
      FeedEvent ev = w.NextEvent();
      if (!ev.ok) break;
      got.push_back(ev.id);
    }
    return got;
  };
  EXPECT_EQ(ids(all, 4), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(ids(level, 4), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(ids(only_x, 2), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(ids(later, 2), (std::vector<uint64_t>{3, 4}));
  // Nothing more is queued for the filtered ones: the next event each sees is the next write.
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/x3", "5").status, 201);
  EXPECT_EQ(ids(only_x, 1), (std::vector<uint64_t>{5}));
  EXPECT_EQ(ids(later, 1), (std::vector<uint64_t>{5}));
}

TEST(FeedTest, ResumeAcrossRestartWithLastEventIdHasNoGapNoRepeat) {
  TempDir dir;
  uint64_t last = 0;
  {
    InProcessServer srv(dir.path());
    ASSERT_TRUE(srv.ok());
    FeedStream w(srv.port());
    ASSERT_EQ(w.Open("watch=1&since=0"), 200);
    for (int i = 0; i < 5; ++i) Request(srv.port(), "PUT", "/kv/a" + std::to_string(i), "v");
    for (int i = 0; i < 3; ++i) last = w.NextEvent().id;  // the client saw 3 of them
    ASSERT_EQ(last, 3u);
  }
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  for (int i = 5; i < 8; ++i) Request(srv.port(), "PUT", "/kv/a" + std::to_string(i), "v");
  FeedStream w(srv.port());
  // Last-Event-ID wins over since.
  ASSERT_EQ(w.Open("watch=1&since=0", "Last-Event-ID: " + std::to_string(last) + "\r\n"), 200);
  for (uint64_t seq = 4; seq <= 8; ++seq) {
    FeedEvent ev = w.NextEvent();
    ASSERT_TRUE(ev.ok);
    EXPECT_EQ(ev.id, seq);
    EXPECT_EQ(Key(ev), "a" + std::to_string(seq - 1));
  }
  Request(srv.port(), "PUT", "/kv/z", "v");
  EXPECT_EQ(w.NextEvent().id, 9u);
}

TEST(FeedTest, CompactedHistoryAnswers410WithHorizon) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  Request(srv.port(), "PUT", "/kv/a", "1");
  Request(srv.port(), "PUT", "/kv/a", "2");  // seq 1 is now dead
  Request(srv.port(), "PUT", "/kv/b", "1");
  ASSERT_TRUE(srv.store()->Compact().ok());
  {
    FeedStream w(srv.port());
    ASSERT_EQ(w.Open("watch=1&since=0"), 410);
    EXPECT_EQ(w.Header("X-Seq-Horizon"), "1");
  }
  FeedStream w(srv.port());
  ASSERT_EQ(w.Open("watch=1&since=1"), 200);
  EXPECT_EQ(w.NextEvent().id, 2u);
  EXPECT_EQ(w.NextEvent().id, 3u);
  Reply m = Request(srv.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("httpkv_seq_horizon 1\n"), std::string::npos);
  FeedStream bad(srv.port());
  EXPECT_EQ(bad.Open("watch=1&since=abc"), 400);
}

}  // namespace
}  // namespace httpkv::e2e
