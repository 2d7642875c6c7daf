// HttpWorker under --fsync always: acknowledgements are held until the log is durable.
//
// Each worker keeps at most one SyncAsync in flight, for the highest token any of its
// connections waits on; when it completes, every connection covered is released and, if
// some wait on later writes, the next one starts. The store's callback is a plain function and
// the posted task captures one word, so waiting allocates nothing per request.
#include <spdlog/spdlog.h>

#include "server/http_worker.h"

namespace httpkv::server {

using reactor::Connection;

// The responses just queued acknowledge writes that are in the log but not yet on disk.
void HttpWorker::AwaitDurability(Connection& conn, HttpSession& s) {
  conn.HoldOutput();
  s.inflight_token = s.pending_token;
  if (!s.awaiting_durable) {
    s.awaiting_durable = true;
    awaiting_durable_.push_back({&conn, s.id});
  }
  if (s.pending_token > sync_wanted_) sync_wanted_ = s.pending_token;
  if (sync_inflight_ == 0) StartSync();
}

void HttpWorker::StartSync() {
  sync_inflight_ = sync_wanted_;
  // The store's sync thread runs one fdatasync for every write queued so far (all
  // connections, all threads) and calls back, usually on that thread: hop to this loop.
  store_->SyncAsync(sync_inflight_, &HttpWorker::OnSyncDone, this);
}

// On the store's sync thread (or inline when already durable). Only the loop thread reads
// or writes sync_inflight_, so the token is taken there.
void HttpWorker::OnSyncDone(void* ctx, const storage::Status& st) {
  auto* self = static_cast<HttpWorker*>(ctx);
  if (st.ok()) {
    self->loop_.Post([self] { self->OnDurable(self->sync_inflight_, storage::Status::OK()); });
  } else {
    self->loop_.Post([self, st] { self->OnDurable(self->sync_inflight_, st); });
  }
}

void HttpWorker::OnDurable(uint64_t token, const storage::Status& st) {
  sync_inflight_ = 0;
  // Releasing output may serve buffered requests that wait again: they queue anew.
  durable_batch_.swap(awaiting_durable_);
  size_t aborted = 0;
  for (const auto& [conn, id] : durable_batch_) {
    auto it = sessions_.find(conn);
    if (it == sessions_.end() || it->second->id != id || conn->closed()) continue;
    HttpSession& s = *it->second;
    if (!st.ok()) {
      // The acknowledgements in the buffer are not true: they must never be sent.
      s.awaiting_durable = false;
      conn->Abort();
      ++aborted;
      continue;
    }
    if (s.pending_token > token) {  // acknowledges later writes too: wait for those
      awaiting_durable_.push_back({conn, id});
      continue;
    }
    s.awaiting_durable = false;
    conn->ReleaseOutput();
  }
  durable_batch_.clear();
  if (st.ok()) feed_bus_->Notify();  // the feed shows writes once they are durable
  if (aborted > 0) {
    spdlog::error("fsync failed, dropped {} connections with unsent acknowledgements: {}", aborted,
                  st.ToString());
  }
  if (!awaiting_durable_.empty() && sync_inflight_ == 0) StartSync();
}

}  // namespace httpkv::server
