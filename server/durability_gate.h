// DurabilityGate: one reactor thread's acknowledgements are held until what they
// acknowledge is durable — on this disk under --fsync always, and held by K replicas under
// --sync K (server/replication/replica_set.h) — and a primary whose lease ran out while they
// waited never sends them.
//
// Each worker keeps at most one SyncAsync in flight, for the highest token any of its
// connections waits on; when it completes, every connection covered is released and, if
// some wait on later writes, the next one starts. Replicas acknowledge through the commit seq:
// the worker calls OnCommit() (posted) when it advanced, and a ticker looks at the waiters
// every kReplicaTick while any wait for replicas (the --sync-timeout and the lease deadline).
// The store's callback is a plain function and the posted task captures one word, so
// waiting allocates nothing per request.
//
// Each connection's part (Hold) is embedded in the worker's session, so the serve loop
// reaches it without a lookup; only the gate reads or writes its fields. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "reactor/connection.h"
#include "reactor/event_loop.h"
#include "server/base/metrics.h"
#include "server/feed/feed_bus.h"
#include "server/replication/replication_node.h"
#include "storage/log_store.h"

namespace httpkv::server {

class DurabilityGate {
 public:
  // One connection's acknowledgements in wait.
  class Hold {
    friend class DurabilityGate;
    uint64_t pending_ = 0;              // the log must be durable up to here before output leaves
    uint64_t inflight_ = 0;             // ... of which a sync was asked for
    uint64_t pending_seq_ = 0;          // --sync K: the commit seq must reach this
    reactor::Clock::time_point since_;  // when it began to wait for replicas
    bool listed_ = false;               // in DurabilityGate::awaiting_
  };
  // The worker's lookup: the live connection `conn` with session `id`'s Hold, or nullptr.
  using FindHold = Hold* (*)(void* ctx, reactor::Connection* conn, uint64_t id);
  // The worker answers a connection whose writes waited past --sync-timeout (503, close).
  using GiveUp = void (*)(void* ctx, reactor::Connection* conn);

  static constexpr std::chrono::milliseconds kReplicaTick{20};

  // fsync_always: --fsync always. repl: a replicated shard's member (nullptr: standalone);
  // its --sync decides whether acknowledgements wait for replicas. Durable writes wake the
  // feed.
  DurabilityGate(bool fsync_always, const replication::ReplicationNode* repl,
                 reactor::EventLoop* loop, storage::LogStore* store, FeedBus* bus,
                 WorkerMetrics* metrics, FindHold find, GiveUp give_up, void* ctx);
  DurabilityGate(const DurabilityGate&) = delete;
  DurabilityGate& operator=(const DurabilityGate&) = delete;

  bool on() const { return durable_on_ || replicas_on_; }
  // Acknowledgements wait for the disk (the feed is woken once they are durable).
  bool durable_on() const { return durable_on_; }
  // A reply just queued on the connection acknowledges the write at sync_token (0: none)
  // whose seq is `seq`.
  void Note(Hold& h, uint64_t sync_token, uint64_t seq) {
    if (durable_on_ && sync_token > h.pending_) h.pending_ = sync_token;
    if (replicas_on_ && sync_token != 0 && seq > h.pending_seq_) h.pending_seq_ = seq;
  }
  // A reply acknowledging the write at sync_token must wait: hold the output before it is
  // written, so that nothing — not even a close after it (Connection: close) — sends it.
  bool Holds(uint64_t sync_token) const { return on() && sync_token != 0; }
  // After a read batch: holds the connection's output if it acknowledges writes that are in
  // the log but not yet on disk, or not yet on enough replicas.
  void AfterBatch(reactor::Connection& conn, uint64_t id, Hold& h) {
    if (h.pending_ > h.inflight_ || (h.pending_seq_ != 0 && !h.listed_)) Await(conn, id, h);
  }
  // The commit seq advanced (posted to this loop by the replication listener).
  void OnCommit() { Sweep(storage::Status::OK()); }

 private:
  void Await(reactor::Connection& conn, uint64_t id, Hold& h);
  void StartSync();
  void OnDurable(const storage::Status& st);
  // Releases every waiter whose writes are durable (the store's durable token) and replicated;
  // aborts them all on a failed sync or an expired lease; gives up on those past --sync-timeout.
  void Sweep(const storage::Status& st);
  bool Replicated(const Hold& h) const;
  void Tick();
  static void OnSyncDone(void* ctx, const storage::Status& st);  // store's sync thread

  const bool durable_on_;
  const bool replicas_on_;
  const replication::ReplicationNode* repl_;
  reactor::EventLoop* loop_;
  storage::LogStore* store_;
  FeedBus* bus_;
  WorkerMetrics* metrics_;
  FindHold find_;
  GiveUp give_up_;
  void* ctx_;
  // Connections holding acknowledgements (connection, session id), and the one SyncAsync
  // in flight (its token, 0 if none) for the highest token wanted.
  std::vector<std::pair<reactor::Connection*, uint64_t>> awaiting_;
  std::vector<std::pair<reactor::Connection*, uint64_t>> batch_;
  uint64_t sync_inflight_ = 0;
  uint64_t sync_wanted_ = 0;
  reactor::TimerId ticker_ = 0;
};

}  // namespace httpkv::server
