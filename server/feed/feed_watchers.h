// FeedWatchers: one reactor thread's change-feed watchers (SPEC "Change feed and expiry").
//
// A watcher is a connection that asked for GET /kv/?watch=1: its answer is a chunked
// text/event-stream that ends only when the connection closes. It holds a storage::FeedCursor
// and nothing else: events are read from the log's mappings when there is something new —
// after a write on any thread (FeedBus wakes this loop at most once per batch), when its
// output drained, or in the next turn of a long history replay — and rendered straight into
// its output. The log is the buffer, so a slow watcher costs no memory beyond its output
// buffer; once that is full (Connection::kOutputHighWater) and it trails the feed by more
// than --feed-max-lag SEQs it is closed at once, its unsent output dropped (Cut). A turn reads a
// bounded number of records, so a history replay never holds the loop for long.
//
// The worker keeps the connection and hands it over with Start(); from then on this
// component owns its watch state (keyed by connection), the worker's bus membership, the
// heartbeat timer and the render buffers. Loop thread only, except the bus's wake-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reactor/connection.h"
#include "reactor/event_loop.h"
#include "server/base/metrics.h"
#include "server/base/server_options.h"
#include "server/feed/feed_bus.h"
#include "server/routes/reply.h"
#include "storage/log_store.h"

namespace httpkv::server {

class FeedWatchers {
 public:
  // Joins `bus` (before any member's thread runs).
  FeedWatchers(reactor::EventLoop* loop, storage::LogStore* store, const ServerOptions* opts,
               FeedBus* bus, WorkerMetrics* metrics);
  FeedWatchers(const FeedWatchers&) = delete;
  FeedWatchers& operator=(const FeedWatchers&) = delete;

  // `conn` (id: unique per worker, tells a recycled Connection address apart) answers
  // nothing more: it streams the events `req` asked for, starting now.
  void Start(reactor::Connection& conn, uint64_t id, const WatchRequest& req);
  // A watcher's input arrived or its output drained: what it sends is dropped, and it gets
  // what is new.
  void OnData(reactor::Connection& conn);
  // A watcher's connection closed.
  void OnClose(reactor::Connection& conn);
  // Drain: every watcher gets a final comment with `reason` and is closed.
  void EndAll(std::string_view reason);
  // Before the loop runs: the feed also stops at bound(ctx) (a replicated shard under
  // --sync K shows only what K replicas hold). None: the store's FeedSeq alone.
  void SetBound(uint64_t (*bound)(const void* ctx), const void* ctx) {
    bound_ = bound;
    bound_ctx_ = ctx;
  }

 private:
  struct Watch {
    uint64_t id = 0;
    std::string prefix;
    storage::FeedCursor cursor;
    bool resume_posted = false;  // a continuation of a long history is queued
    bool ended = false;          // final comment written; closing after it
  };
  Watch* Find(reactor::Connection* conn, uint64_t id);
  // Sends what the watcher's cursor has not yet delivered, up to the feed's bound, in
  // bounded turns; cuts off a watcher that is too far behind with its output full.
  void Pump(reactor::Connection& conn, Watch& w);
  void PostResume(reactor::Connection& conn, Watch& w);
  void End(reactor::Connection& conn, Watch& w, std::string_view reason);
  void Cut(reactor::Connection& conn, Watch& w);  // too far behind: closed at once
  // One ReadChanges for a watcher, rendered into buf_; during a wake-up, watchers at the
  // same cursor with the same prefix reuse the first one's rendering (Memo).
  storage::FeedProgress Read(Watch& w, uint64_t upper);
  void OnWake();
  void Heartbeat();
  static void Wake(void* ctx);  // any thread

  reactor::EventLoop* loop_;
  storage::LogStore* store_;
  const ServerOptions* opts_;
  FeedBus* bus_;
  WorkerMetrics* metrics_;
  FeedBus::Member member_;
  std::unordered_map<reactor::Connection*, Watch> watches_;
  std::vector<reactor::Connection*> order_;  // the watchers, in the order they are pumped
  std::vector<std::pair<reactor::Connection*, uint64_t>> batch_;  // scratch: one wake-up
  std::string buf_;                                               // scratch: rendered events
  // Valid only inside one OnWake (the log below `upper` does not change meanwhile):
  // watchers that are level with each other get the same bytes, rendered once.
  struct Memo {
    bool valid = false;
    storage::FeedCursor before, after;
    uint64_t upper = 0;
    std::string prefix;
    std::string bytes;
    storage::FeedProgress progress = storage::FeedProgress::kCaughtUp;
  };
  Memo memo_;
  bool memo_on_ = false;
  bool trim_posted_ = false;  // a malloc_trim after this turn's cuts is queued
  reactor::TimerId heartbeat_ = 0;
  uint64_t (*bound_)(const void*) = nullptr;
  const void* bound_ctx_ = nullptr;
};

}  // namespace httpkv::server
