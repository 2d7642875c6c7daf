// HttpWorker's change-feed watchers (SPEC "Change feed and expiry").
//
// A watcher is a connection that asked for GET /kv/?watch=1: its answer is a chunked
// text/event-stream that ends only when the connection closes. It holds a storage::FeedCursor
// and nothing else: events are read from the log's mappings when there is something new —
// after a write on any thread (FeedBus wakes this loop at most once per batch), when its
// output drained, or in the next turn of a long history replay — and rendered straight into
// its output. The log is the buffer, so a slow watcher costs no memory beyond its output
// buffer; once that is full (Connection::kOutputHighWater) and it trails the feed by more
// than --feed-max-lag SEQs it is closed with a final comment. A turn reads at most
// kTurnRecords records, so a history replay never holds the loop for long.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/feed/feed_event.h"
#include "server/http_worker.h"

namespace httpkv::server {

using reactor::Connection;

namespace {
constexpr size_t kBudgetPerRead = 1024;  // records visited per ReadChanges call
constexpr int kReadsPerTurn = 8;
}  // namespace

void HttpWorker::StartWatch(Connection& conn, HttpSession& s) {
  WatchRequest& req = routes_.watch();
  s.watch = std::make_unique<HttpSession::Watch>();
  s.watch->prefix = req.prefix;
  s.watch->cursor = req.cursor;
  // A watcher is neither idle nor a request in progress: no deadline (heartbeats and the
  // lag cut-off take care of it).
  loop_.Cancel(s.timer);
  s.timer = 0;
  conn.input().ConsumeAll();
  watchers_.push_back(&conn);
  feed_bus_->Watching(&feed_member_, +1);  // before reading FeedSeq (server/feed/feed_bus.h)
  if (feed_heartbeat_ == 0) {
    feed_heartbeat_ = loop_.RunEvery(opts_->feed_heartbeat, [this] { FeedHeartbeat(); });
  }
  Bump(metrics_.feed_watchers_started);
  Bump(metrics_.feed_watchers_open);
  PumpWatch(conn, s);
}

void HttpWorker::PumpWatch(Connection& conn, HttpSession& s) {
  if (s.closing || conn.closed()) return;
  HttpSession::Watch& w = *s.watch;
  const uint64_t upper = store_->FeedSeq();
  for (int reads = 0; !conn.output_full(); ++reads) {
    if (reads == kReadsPerTurn) {  // more history: continue on the next loop iteration
      if (!std::exchange(w.resume_posted, true)) {
        loop_.Post([this, c = &conn, id = s.id] {
          auto it = sessions_.find(c);
          if (it == sessions_.end() || it->second->id != id || !it->second->watch) return;
          it->second->watch->resume_posted = false;
          PumpWatch(*c, *it->second);
          c->Flush();
        });
      }
      return;
    }
    const storage::FeedProgress p = ReadFeed(w, upper);
    if (!feed_buf_.empty()) {
      const size_t before = conn.output().readable_bytes();
      http::ResponseWriter(&conn.output()).Chunk(feed_buf_);
      Bump(metrics_.bytes_out, conn.output().readable_bytes() - before);
    }
    switch (p) {
      case storage::FeedProgress::kCaughtUp:
        return;
      case storage::FeedProgress::kMore:
        continue;
      case storage::FeedProgress::kHistoryLost:
        return EndWatch(conn, s, "closed: history after this watcher's SEQ was compacted away");
      case storage::FeedProgress::kCorrupt:
        spdlog::error("change feed: damaged record after SEQ {}", w.cursor.last_seq);
        return EndWatch(conn, s, "closed: damaged record in the log");
    }
  }
  // Output full: the peer is not reading as fast as the log grows.
  if (upper - w.cursor.last_seq > opts_->feed_max_lag) {
    Bump(metrics_.feed_watchers_cut);
    return EndWatch(conn, s, "closed: watcher too slow");
  }
  conn.ResumeOnDrain();  // OnData -> PumpWatch once it drained
}

storage::FeedProgress HttpWorker::ReadFeed(HttpSession::Watch& w, uint64_t upper) {
  FeedMemo& m = feed_memo_;
  const storage::FeedCursor& c = w.cursor;
  if (feed_memo_on_ && m.valid && m.upper == upper && m.prefix == w.prefix &&
      m.before.last_seq == c.last_seq && m.before.segment == c.segment &&
      m.before.offset == c.offset) {
    feed_buf_.assign(m.bytes);
    w.cursor = m.after;
    return m.progress;
  }
  feed_buf_.clear();
  const storage::FeedCursor before = w.cursor;
  const storage::FeedProgress p =
      store_->ReadChanges(&w.cursor, upper, w.prefix, kBudgetPerRead, &AppendFeedEvent, &feed_buf_);
  if (feed_memo_on_) {
    m.valid = true;
    m.before = before;
    m.after = w.cursor;
    m.upper = upper;
    m.prefix.assign(w.prefix);
    m.bytes.assign(feed_buf_);
    m.progress = p;
  }
  return p;
}

void HttpWorker::EndWatch(Connection& conn, HttpSession& s, std::string_view reason) {
  if (s.closing || conn.closed()) return;
  feed_buf_.clear();
  AppendFeedComment(reason, &feed_buf_);
  http::ResponseWriter w(&conn.output());
  w.Chunk(feed_buf_);
  w.EndChunks();
  s.closing = true;
  conn.CloseAfterFlush();
}

void HttpWorker::StopWatching(Connection& conn) {
  auto it = std::find(watchers_.begin(), watchers_.end(), &conn);
  if (it == watchers_.end()) return;
  *it = watchers_.back();
  watchers_.pop_back();
  feed_bus_->Watching(&feed_member_, -1);
  Bump(metrics_.feed_watchers_open, static_cast<uint64_t>(-1));
}

// Another thread (or this one) wrote: every watcher here reads what is new.
void HttpWorker::WakeFeed(void* ctx) {
  auto* self = static_cast<HttpWorker*>(ctx);
  self->loop_.Post([self] { self->OnFeedWake(); });
}

void HttpWorker::OnFeedWake() {
  feed_member_.wake_pending.exchange(
      false,
      std::memory_order_acq_rel);  // before FeedSeq (server/feed/feed_bus.h)
  // Pumping may close watchers (OnClose edits watchers_): walk a copy, checked by id.
  feed_batch_.clear();
  for (Connection* c : watchers_) {
    feed_batch_.push_back({c, static_cast<HttpSession*>(c->context())->id});
  }
  feed_memo_.valid = false;
  feed_memo_on_ = true;
  for (const auto& [c, id] : feed_batch_) {
    auto it = sessions_.find(c);
    if (it == sessions_.end() || it->second->id != id || c->closed()) continue;
    PumpWatch(*c, *it->second);  // a blocked one only checks its lag
    c->Flush();
  }
  feed_memo_on_ = false;
}

void HttpWorker::FeedHeartbeat() {
  feed_buf_.clear();
  AppendFeedComment("keepalive", &feed_buf_);
  for (Connection* c : std::vector<Connection*>(watchers_)) {
    if (!c->output().empty() || c->closed()) continue;  // busy streams need no heartbeat
    http::ResponseWriter(&c->output()).Chunk(feed_buf_);
    c->Flush();
  }
}

}  // namespace httpkv::server
