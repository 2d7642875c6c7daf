// ClientConn's --cluster half: the owner's address, and what a stale answer does (README
// "Cluster-aware clients"). A 421 names the primary (X-Primary); a 503 (no primary here,
// an election) or a refused connection makes the worker look the owner up again
// (Routes::Refresh: FILE re-read, the members asked GET /primary). The request that got
// the stale answer is sent once more, to the owner's address as now known; its second
// answer is the one counted, and its latency runs from the first send.
#include "bench/loadgen/client_conn.h"
#include "bench/loadgen/conn_group.h"
#include "bench/loadgen/worker.h"

namespace httpkv::bench {

const reactor::InetAddress& ClientConn::Address() const {
  return group_ != nullptr ? w_->OwnerAddress(owner_) : w_->shared().opt->addr;
}

bool ClientConn::NoteStale(int status, const http::Response& resp) {
  stale_ = true;
  if (status == 421) stale_primary_ = resp.Find("X-Primary");
  const Pending p = ring_[head_];
  if (p.retried) return false;  // its second answer: counted as it is
  head_ = (head_ + 1) & mask_;
  --count_;
  retry_.push_back(p);
  ++w_->stats().stale_retries;
  return true;
}

bool ClientConn::Reroute(bool reopen) {
  reopen = w_->RefreshOwner(owner_, stale_primary_) || reopen;
  stale_primary_.clear();
  stale_ = false;
  std::vector<Pending> retries;  // a failure path: allocation is fine
  retries.swap(retry_);
  if (reopen) {  // what was in flight here went to the old address: lost
    RewindPreload();
    Close();
  }
  for (const Pending& p : retries) group_->Push(p.op, p.key, p.start_ns, true);
  if (reopen) Connect();
  return !reopen;
}

}  // namespace httpkv::bench
