#include "server/durability_gate.h"

#include <spdlog/spdlog.h>

namespace httpkv::server {

using reactor::Connection;

DurabilityGate::DurabilityGate(bool on, reactor::EventLoop* loop, storage::LogStore* store,
                               FeedBus* bus, FindHold find, void* find_ctx)
    : on_(on), loop_(loop), store_(store), bus_(bus), find_(find), find_ctx_(find_ctx) {}

// The responses just queued acknowledge writes that are in the log but not yet on disk.
void DurabilityGate::Await(Connection& conn, uint64_t id, Hold& h) {
  conn.HoldOutput();
  h.inflight_ = h.pending_;
  if (!h.listed_) {
    h.listed_ = true;
    awaiting_.push_back({&conn, id});
  }
  if (h.pending_ > sync_wanted_) sync_wanted_ = h.pending_;
  if (sync_inflight_ == 0) StartSync();
}

void DurabilityGate::StartSync() {
  sync_inflight_ = sync_wanted_;
  // The store's sync thread runs one fdatasync for every write queued so far (all
  // connections, all threads) and calls back, usually on that thread: hop to this loop.
  store_->SyncAsync(sync_inflight_, &DurabilityGate::OnSyncDone, this);
}

// On the store's sync thread (or inline when already durable). Only the loop thread reads
// or writes sync_inflight_, so the token is taken there.
void DurabilityGate::OnSyncDone(void* ctx, const storage::Status& st) {
  auto* self = static_cast<DurabilityGate*>(ctx);
  if (st.ok()) {
    self->loop_->Post([self] { self->OnDurable(self->sync_inflight_, storage::Status::OK()); });
  } else {
    self->loop_->Post([self, st] { self->OnDurable(self->sync_inflight_, st); });
  }
}

void DurabilityGate::OnDurable(uint64_t token, const storage::Status& st) {
  sync_inflight_ = 0;
  // Releasing output may serve buffered requests that wait again: they queue anew.
  batch_.swap(awaiting_);
  size_t aborted = 0;
  for (const auto& [conn, id] : batch_) {
    Hold* h = find_(find_ctx_, conn, id);
    if (h == nullptr || conn->closed()) continue;
    if (!st.ok()) {
      // The acknowledgements in the buffer are not true: they must never be sent.
      h->listed_ = false;
      conn->Abort();
      ++aborted;
      continue;
    }
    if (h->pending_ > token) {  // acknowledges later writes too: wait for those
      awaiting_.push_back({conn, id});
      continue;
    }
    h->listed_ = false;
    conn->ReleaseOutput();
  }
  batch_.clear();
  if (st.ok()) bus_->Notify();  // the feed shows writes once they are durable
  if (aborted > 0) {
    spdlog::error("fsync failed, dropped {} connections with unsent acknowledgements: {}", aborted,
                  st.ToString());
  }
  if (!awaiting_.empty() && sync_inflight_ == 0) StartSync();
}

}  // namespace httpkv::server
