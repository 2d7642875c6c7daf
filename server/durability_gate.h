// DurabilityGate: under --fsync always, one reactor thread's acknowledgements are held
// until the log is durable.
//
// Each worker keeps at most one SyncAsync in flight, for the highest token any of its
// connections waits on; when it completes, every connection covered is released and, if
// some wait on later writes, the next one starts. The store's callback is a plain function
// and the posted task captures one word, so waiting allocates nothing per request.
//
// Each connection's part (Hold) is embedded in the worker's session, so the serve loop
// reaches it without a lookup; only the gate reads or writes its fields. Loop thread only.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "reactor/connection.h"
#include "reactor/event_loop.h"
#include "server/feed/feed_bus.h"
#include "storage/log_store.h"

namespace httpkv::server {

class DurabilityGate {
 public:
  // One connection's acknowledgements in wait.
  class Hold {
    friend class DurabilityGate;
    uint64_t pending_ = 0;   // the log must be durable up to here before output leaves
    uint64_t inflight_ = 0;  // ... of which a sync was asked for
    bool listed_ = false;    // in DurabilityGate::awaiting_
  };
  // The worker's lookup: the live connection `conn` with session `id`'s Hold, or nullptr.
  using FindHold = Hold* (*)(void* ctx, reactor::Connection* conn, uint64_t id);

  // on: --fsync always (else the gate holds nothing back). Durable writes wake the feed.
  DurabilityGate(bool on, reactor::EventLoop* loop, storage::LogStore* store, FeedBus* bus,
                 FindHold find, void* find_ctx);
  DurabilityGate(const DurabilityGate&) = delete;
  DurabilityGate& operator=(const DurabilityGate&) = delete;

  bool on() const { return on_; }
  // A reply just queued on the connection acknowledges the write at sync_token (0: none).
  void Note(Hold& h, uint64_t sync_token) {
    if (on_ && sync_token > h.pending_) h.pending_ = sync_token;
  }
  // After a read batch: holds the connection's output if it acknowledges writes that are in
  // the log but not yet on disk.
  void AfterBatch(reactor::Connection& conn, uint64_t id, Hold& h) {
    if (h.pending_ > h.inflight_) Await(conn, id, h);
  }

 private:
  void Await(reactor::Connection& conn, uint64_t id, Hold& h);
  void StartSync();
  void OnDurable(uint64_t token, const storage::Status& st);
  static void OnSyncDone(void* ctx, const storage::Status& st);  // store's sync thread

  const bool on_;
  reactor::EventLoop* loop_;
  storage::LogStore* store_;
  FeedBus* bus_;
  FindHold find_;
  void* find_ctx_;
  // Connections holding acknowledgements (connection, session id), and the one SyncAsync
  // in flight (its token, 0 if none) for the highest token wanted.
  std::vector<std::pair<reactor::Connection*, uint64_t>> awaiting_;
  std::vector<std::pair<reactor::Connection*, uint64_t>> batch_;
  uint64_t sync_inflight_ = 0;
  uint64_t sync_wanted_ = 0;
};

}  // namespace httpkv::server
