#include "server/feed/feed_watchers.h"

#if defined(__GLIBC__)
#include <malloc.h>  // malloc_trim
#endif

#include <spdlog/spdlog.h>

#include <algorithm>

#include "http/response_writer.h"
#include "server/feed/feed_event.h"

namespace httpkv::server {

using reactor::Connection;

namespace {
constexpr size_t kBudgetPerRead = 1024;  // records visited per ReadChanges call
constexpr int kReadsPerTurn = 8;
}  // namespace

FeedWatchers::FeedWatchers(reactor::EventLoop* loop, storage::LogStore* store,
                           const ServerOptions* opts, FeedBus* bus, WorkerMetrics* metrics)
    : loop_(loop), store_(store), opts_(opts), bus_(bus), metrics_(metrics) {
  member_.wake = &FeedWatchers::Wake;
  member_.ctx = this;
  bus_->Add(&member_);
}

void FeedWatchers::Start(Connection& conn, uint64_t id, const WatchRequest& req) {
  Watch& w = watches_[&conn];
  w = Watch{};
  w.id = id;
  w.prefix = req.prefix;
  w.cursor = req.cursor;
  conn.input().ConsumeAll();
  order_.push_back(&conn);
  bus_->Watching(&member_, +1);  // before reading FeedSeq (server/feed/feed_bus.h)
  if (heartbeat_ == 0) {
    heartbeat_ = loop_->RunEvery(opts_->feed_heartbeat, [this] { Heartbeat(); });
  }
  Bump(metrics_->feed_watchers_started);
  Bump(metrics_->feed_watchers_open);
  Pump(conn, w);
}

void FeedWatchers::OnData(Connection& conn) {
  auto it = watches_.find(&conn);
  if (it == watches_.end() || it->second.ended) return;
  conn.input().ConsumeAll();
  Pump(conn, it->second);
}

FeedWatchers::Watch* FeedWatchers::Find(Connection* conn, uint64_t id) {
  auto it = watches_.find(conn);
  return it == watches_.end() || it->second.id != id ? nullptr : &it->second;
}

void FeedWatchers::Pump(Connection& conn, Watch& w) {
  if (w.ended || conn.closed()) return;
  uint64_t upper = store_->FeedSeq();
  if (bound_ != nullptr) upper = std::min(upper, bound_(bound_ctx_));
  for (int reads = 0; !conn.output_full(); ++reads) {
    if (reads == kReadsPerTurn) return PostResume(conn, w);  // more history: next iteration
    const storage::FeedProgress p = Read(w, upper);
    if (!buf_.empty()) {
      const size_t before = conn.output().readable_bytes();
      http::ResponseWriter(&conn.output()).Chunk(buf_);
      Bump(metrics_->bytes_out, conn.output().readable_bytes() - before);
    }
    switch (p) {
      case storage::FeedProgress::kCaughtUp:
        return;
      case storage::FeedProgress::kMore:
        continue;
      case storage::FeedProgress::kHistoryLost:
        return End(conn, w, "closed: history after this watcher's SEQ was compacted away");
      case storage::FeedProgress::kCorrupt:
        spdlog::error("change feed: damaged record after SEQ {}", w.cursor.last_seq);
        return End(conn, w, "closed: damaged record in the log");
    }
  }
  // Output full: the peer is not reading as fast as the log grows.
  if (upper > w.cursor.last_seq && upper - w.cursor.last_seq > opts_->feed_max_lag) {
    Bump(metrics_->feed_watchers_cut);
    return Cut(conn, w);
  }
  conn.ResumeOnDrain();  // OnData -> Pump once it drained
}

void FeedWatchers::PostResume(Connection& conn, Watch& w) {
  if (std::exchange(w.resume_posted, true)) return;
  loop_->Post([this, c = &conn, id = w.id] {
    Watch* w = Find(c, id);
    if (w == nullptr) return;
    w->resume_posted = false;
    Pump(*c, *w);
    c->Flush();
  });
}

storage::FeedProgress FeedWatchers::Read(Watch& w, uint64_t upper) {
  Memo& m = memo_;
  const storage::FeedCursor& c = w.cursor;
  if (memo_on_ && m.valid && m.upper == upper && m.prefix == w.prefix &&
      m.before.last_seq == c.last_seq && m.before.segment == c.segment &&
      m.before.offset == c.offset) {
    buf_.assign(m.bytes);
    w.cursor = m.after;
    return m.progress;
  }
  buf_.clear();
  const storage::FeedCursor before = w.cursor;
  const storage::FeedProgress p =
      store_->ReadChanges(&w.cursor, upper, w.prefix, kBudgetPerRead, &AppendFeedEvent, &buf_);
  if (memo_on_) {
    m.valid = true;
    m.before = before;
    m.after = w.cursor;
    m.upper = upper;
    m.prefix.assign(w.prefix);
    m.bytes.assign(buf_);
    m.progress = p;
  }
  return p;
}

void FeedWatchers::End(Connection& conn, Watch& w, std::string_view reason) {
  if (w.ended || conn.closed()) return;
  buf_.clear();
  AppendFeedComment(reason, &buf_);
  http::ResponseWriter out(&conn.output());
  out.Chunk(buf_);
  out.EndChunks();
  w.ended = true;
  conn.CloseAfterFlush();  // may close now: w is not touched after this
}

// Too slow: gone at once, as Redis drops a client over its output limit. Its unsent output is
// dropped (its socket buffers hold what it will still read); the closing comment and the last
// chunk are sent only if everything before them went out without waiting, since they cannot
// follow a chunk the peer has only half of. Nothing keeps the connection open for the peer.
void FeedWatchers::Cut(Connection& conn, Watch& w) {
  w.ended = true;
  const uint64_t id = w.id;
  conn.Flush();  // what the socket takes now; may close it (then w is gone)
  if (Find(&conn, id) == nullptr || conn.closed()) return;
  if (conn.output().readable_bytes() == 0) {
    buf_.clear();
    AppendFeedComment("closed: watcher too slow", &buf_);
    http::ResponseWriter out(&conn.output());
    out.Chunk(buf_);
    out.EndChunks();
    conn.Flush();
    if (conn.closed()) return;
  }
  conn.Abort();  // drops what did not fit and closes: w is not touched after this
  // The output buffers just freed (up to 1 MiB each) stay in malloc's free lists unless it
  // is asked to give them back; once per loop turn, after every cut of that turn.
#if defined(__GLIBC__)
  if (!std::exchange(trim_posted_, true)) {
    loop_->Post([this] {
      trim_posted_ = false;
      ::malloc_trim(0);
    });
  }
#endif
}

void FeedWatchers::EndAll(std::string_view reason) {
  for (Connection* c : std::vector<Connection*>(order_)) {
    auto it = watches_.find(c);
    if (it != watches_.end()) End(*c, it->second, reason);
  }
}

void FeedWatchers::OnClose(Connection& conn) {
  auto it = std::find(order_.begin(), order_.end(), &conn);
  if (it == order_.end()) return;
  *it = order_.back();
  order_.pop_back();
  watches_.erase(&conn);
  bus_->Watching(&member_, -1);
  Bump(metrics_->feed_watchers_open, static_cast<uint64_t>(-1));
}

// Another thread (or this one) wrote: every watcher here reads what is new.
void FeedWatchers::Wake(void* ctx) {
  auto* self = static_cast<FeedWatchers*>(ctx);
  self->loop_->Post([self] { self->OnWake(); });
}

void FeedWatchers::OnWake() {
  // Before FeedSeq (server/feed/feed_bus.h).
  member_.wake_pending.exchange(false, std::memory_order_acq_rel);
  // Pumping may close watchers (OnClose edits order_): walk a copy, checked by id.
  batch_.clear();
  for (Connection* c : order_) batch_.push_back({c, watches_.find(c)->second.id});
  memo_.valid = false;
  memo_on_ = true;
  for (const auto& [c, id] : batch_) {
    Watch* w = Find(c, id);
    if (w == nullptr || c->closed()) continue;
    Pump(*c, *w);  // a blocked one only checks its lag
    c->Flush();
  }
  memo_on_ = false;
}

void FeedWatchers::Heartbeat() {
  buf_.clear();
  AppendFeedComment("keepalive", &buf_);
  for (Connection* c : std::vector<Connection*>(order_)) {
    if (!c->output().empty() || c->closed()) continue;  // busy streams need no heartbeat
    http::ResponseWriter(&c->output()).Chunk(buf_);
    c->Flush();
  }
}

}  // namespace httpkv::server
