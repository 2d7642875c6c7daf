// HttpWorker's side of replication: answering replicas' log fetches (POST /replication/log,
// server/replication/log_shipping.h), holding a fetch that finds nothing new until a write
// on any thread wakes this loop (the ship bus) or kFetchHold passes, and the 503 for writes
// that waited for --sync replicas past --sync-timeout.
#include <spdlog/spdlog.h>

#include "server/http_worker.h"

namespace httpkv::server {

using http::ConnectionHeader;
using reactor::Connection;
using replication::FetchVerdict;

namespace {

// How often held fetches are looked at for their deadline and the primary's role.
constexpr std::chrono::milliseconds kParkTick{50};

}  // namespace

void HttpWorker::PostReplicationProgress() {
  loop_.Post([this] {
    durability_.OnCommit();
    PumpParked(/*expire_only=*/true);
  });
}

void HttpWorker::GiveUpOnReplicas(void* ctx, Connection* conn) {
  auto* self = static_cast<HttpWorker*>(ctx);
  self->loop_.AssertInLoopThread();
  auto it = self->sessions_.find(conn);
  if (it == self->sessions_.end()) return;
  HttpSession& s = *it->second;
  // The held answers acknowledge writes that too few replicas hold: they are dropped, and
  // the connection gets one 503 and closes (requests pipelined behind it are not answered).
  conn->output().ConsumeAll();
  Reply r;
  r.status = 503;
  r.content_type = kTextPlain;
  r.body = "not acknowledged: fewer than --sync replicas hold this write within --sync-timeout\n";
  r.retry_after = 1;
  self->WriteReply(*conn, r, /*head=*/false, ConnectionHeader::kClose);
  self->metrics_.RecordRequest(http::Method::kOther, Route::kKv, 503, Clock::duration::zero());
  s.closing = true;
  conn->input().ConsumeAll();
  conn->ReleaseOutput();
  conn->CloseAfterFlush();
}

bool HttpWorker::ServeFetch(Connection& conn, HttpSession& s, ConnectionHeader) {
  loop_.AssertInLoopThread();
  if (AnswerFetch(conn, routes_.fetch(), /*may_park=*/true)) return true;
  Park(conn, s);
  return false;
}

bool HttpWorker::AnswerFetch(Connection& conn, const replication::FetchRequest& req,
                             bool may_park) {
  loop_.AssertInLoopThread();
  Reply r;
  r.route = Route::kReplicationLog;
  if (repl_->role().role() != replication::Role::kPrimary || !repl_->role().AcceptsWrites()) {
    r = routes_.NotPrimary();
  } else {
    storage::FeedCursor cursor;
    const uint64_t held = req.after == store_->LastSeq() ? store_->LogPosition() : 0;
    repl_->replicas().Ack(req.node, req.addr, req.after, Clock::now(), &cursor, held);
    const replication::FetchPlan plan = replication::PlanFetch(*store_, req);
    uint64_t end = 0;
    ship_buf_.clear();
    if (plan.verdict == FetchVerdict::kTruncate) {
      r.status = 409;
      r.content_type = kTextPlain;
      r.body =
          "your log has records of a term this primary does not have: keep up to X-Truncate-To\n";
      r.truncate_to = static_cast<int64_t>(plan.value);
    } else if (plan.verdict == FetchVerdict::kHorizon ||
               !replication::ReadShipment(*store_, req, &cursor, &ship_buf_, &end)) {
      r.status = 410;
      r.content_type = kTextPlain;
      r.body = "history before X-Seq-Horizon was compacted: take a full copy\n";
      r.seq_horizon = static_cast<int64_t>(store_->SeqHorizon());
    } else {
      if (ship_buf_.empty() && end <= req.after && may_park) return false;
      repl_->replicas().SaveCursor(req.node, cursor);
      const uint64_t commit = repl_->replicas().commit_seq();
      r.status = 200;
      r.content_type = "application/octet-stream";
      r.body = ship_buf_;
      r.log_end = static_cast<int64_t>(end);
      r.commit = static_cast<int64_t>(commit == UINT64_MAX ? end : commit);
      r.term = static_cast<int64_t>(store_->CurrentTerm());
      ship_history_ = storage::FormatTermHistory(store_->term_history());
      r.x_term_history = ship_history_;
      r.x_seq = static_cast<int64_t>(store_->LastSeq());
    }
  }
  r.route = Route::kReplicationLog;
  WriteReply(conn, r, /*head=*/false,
             draining_ ? ConnectionHeader::kClose : ConnectionHeader::kNone);
  metrics_.RecordRequest(http::Method::kPost, r.route, r.status, Clock::duration::zero());
  if (draining_) conn.CloseAfterFlush();
  return true;
}

void HttpWorker::Park(Connection& conn, HttpSession& s) {
  loop_.AssertInLoopThread();
  s.parked = true;
  parked_.push_back({&conn, s.id, routes_.fetch(), loop_.now() + replication::kFetchHold,
                     repl_->replicas().commit_seq()});
  if (parked_.size() == 1) {
    ship_bus_->Watching(&ship_member_, +1);  // before looking at the log again (feed_bus.h)
    park_timer_ = loop_.RunEvery(kParkTick, [this] { PumpParked(/*expire_only=*/true); });
  }
  // A write between the first look and Watching may have found no watcher: look again.
  if (store_->LastSeq() > parked_.back().req.after) {
    loop_.Post([this] { PumpParked(/*expire_only=*/false); });
  }
}

void HttpWorker::WakeShip(void* ctx) {
  auto* self = static_cast<HttpWorker*>(ctx);
  self->loop_.Post([self] {
    self->ship_member_.wake_pending.exchange(false, std::memory_order_acq_rel);
    self->PumpParked(/*expire_only=*/false);
  });
}

// Answers the held fetches that have records now (all of them unless expire_only, which
// answers only those whose hold ran out or whose member is no longer primary).
void HttpWorker::PumpParked(bool expire_only) {
  loop_.AssertInLoopThread();
  if (parked_.empty()) return;
  parked_batch_.swap(parked_);
  const auto now = loop_.now();
  const uint64_t last = store_->LastSeq();
  const uint64_t commit = repl_->replicas().commit_seq();
  const bool primary = repl_->role().AcceptsWrites();
  for (ParkedFetch& p : parked_batch_) {
    auto it = sessions_.find(p.conn);
    if (it == sessions_.end() || it->second->id != p.id || p.conn->closed()) continue;
    // A newer commit seq is news too: the replica's feed shows writes only up to it.
    const bool news = last > p.req.after || commit > p.commit;
    const bool due = now >= p.until || !primary || draining_ || news;
    if (!due || (expire_only && now < p.until && primary && !draining_ && !news)) {
      parked_.push_back(std::move(p));
      continue;
    }
    HttpSession& s = *it->second;
    if (!AnswerFetch(*p.conn, p.req, /*may_park=*/now < p.until && !draining_ && !news)) {
      parked_.push_back(std::move(p));
      continue;
    }
    s.parked = false;
    p.conn->Flush();
    if (!p.conn->input().empty()) OnData(*p.conn);  // anything pipelined behind it
  }
  parked_batch_.clear();
  if (parked_.empty()) {
    ship_bus_->Watching(&ship_member_, -1);
    loop_.Cancel(park_timer_);
    park_timer_ = 0;
  }
}

}  // namespace httpkv::server
