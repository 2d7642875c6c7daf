#include "server/durability_gate.h"

#include <spdlog/spdlog.h>

namespace httpkv::server {

using reactor::Connection;

DurabilityGate::DurabilityGate(bool fsync_always, const replication::ReplicationNode* repl,
                               reactor::EventLoop* loop, storage::LogStore* store, FeedBus* bus,
                               WorkerMetrics* metrics, FindHold find, GiveUp give_up, void* ctx)
    : durable_on_(fsync_always),
      replicas_on_(repl != nullptr && repl->waits_for_replicas()),
      repl_(repl),
      loop_(loop),
      store_(store),
      bus_(bus),
      metrics_(metrics),
      find_(find),
      give_up_(give_up),
      ctx_(ctx) {}

// The responses just queued acknowledge writes that are in the log but not yet on disk, or
// not yet on enough replicas.
void DurabilityGate::Await(Connection& conn, uint64_t id, Hold& h) {
  conn.HoldOutput();
  if (!h.listed_) {
    h.listed_ = true;
    h.since_ = loop_->now();
    awaiting_.push_back({&conn, id});
  }
  if (h.pending_ > h.inflight_) {
    h.inflight_ = h.pending_;
    if (h.pending_ > sync_wanted_) sync_wanted_ = h.pending_;
    if (sync_inflight_ == 0) StartSync();
  }
  if (replicas_on_ && ticker_ == 0) {
    ticker_ = loop_->RunEvery(kReplicaTick, [this] { Tick(); });
  }
  if (replicas_on_) Sweep(storage::Status::OK());  // a replica may hold them already
}

void DurabilityGate::StartSync() {
  sync_inflight_ = sync_wanted_;
  // The store's sync thread runs one fdatasync for every write queued so far (all
  // connections, all threads) and calls back, usually on that thread: hop to this loop.
  store_->SyncAsync(sync_inflight_, &DurabilityGate::OnSyncDone, this);
}

// On the store's sync thread (or inline when already durable): hop to the loop, the only
// thread that reads or writes the gate's state.
void DurabilityGate::OnSyncDone(void* ctx, const storage::Status& st) {
  auto* self = static_cast<DurabilityGate*>(ctx);
  if (st.ok()) {
    self->loop_->Post([self] { self->OnDurable(storage::Status::OK()); });
  } else {
    self->loop_->Post([self, st] { self->OnDurable(st); });
  }
}

// The store's durable token says what this sync (and any other) covered.
void DurabilityGate::OnDurable(const storage::Status& st) {
  sync_inflight_ = 0;
  Sweep(st);
  if (st.ok()) bus_->Notify();  // the feed shows writes once they are durable
  if (sync_wanted_ > store_->durable_token() && sync_inflight_ == 0 && !awaiting_.empty())
    StartSync();
}

bool DurabilityGate::Replicated(const Hold& h) const {
  return !replicas_on_ || h.pending_seq_ <= repl_->replicas().commit_seq();
}

void DurabilityGate::Sweep(const storage::Status& st) {
  // Releasing output may serve buffered requests that wait again: they queue anew.
  batch_.swap(awaiting_);
  size_t aborted = 0, fenced = 0;
  // A primary past its lease deadline sends no acknowledgement: another member may already
  // be taking writes.
  const bool fence = repl_ != nullptr && !repl_->role().AcceptsWrites();
  const auto now = loop_->now();
  const auto timeout =
      repl_ != nullptr ? repl_->options().sync_timeout : std::chrono::milliseconds(0);
  for (const auto& [conn, id] : batch_) {
    Hold* h = find_(ctx_, conn, id);
    if (h == nullptr || conn->closed()) continue;
    if (!st.ok() || fence) {
      // The acknowledgements in the buffer are not true: they must never be sent.
      h->listed_ = false;
      conn->Abort();
      ++(st.ok() ? fenced : aborted);
      if (st.ok()) Bump(metrics_->fence_drops);
      continue;
    }
    const bool durable = !durable_on_ || h->pending_ <= store_->durable_token();
    if (!durable || !Replicated(*h)) {
      if (replicas_on_ && durable && now - h->since_ > timeout) {
        h->listed_ = false;
        h->pending_seq_ = 0;
        Bump(metrics_->sync_timeouts);
        give_up_(ctx_, conn);  // not acknowledged: the worker answers 503
        continue;
      }
      awaiting_.push_back({conn, id});
      continue;
    }
    h->listed_ = false;
    if (h->pending_seq_ != 0) metrics_->RecordSyncWait(now - h->since_);
    h->pending_seq_ = 0;
    conn->ReleaseOutput();
  }
  batch_.clear();
  if (aborted > 0) {
    spdlog::error("fsync failed, dropped {} connections with unsent acknowledgements: {}", aborted,
                  st.ToString());
  }
  if (fenced > 0) {
    spdlog::warn("lease expired: dropped {} connections with unsent acknowledgements", fenced);
  }
  if (awaiting_.empty() && ticker_ != 0) {
    loop_->Cancel(ticker_);
    ticker_ = 0;
  }
}

void DurabilityGate::Tick() {
  Sweep(storage::Status::OK());
}

}  // namespace httpkv::server
