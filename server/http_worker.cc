#include "server/http_worker.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <vector>

#include "http/http_date.h"
#include "server/auth/peer_policy.h"
#include "server/routes/host_path.h"

namespace httpkv::server {

using http::ConnectionHeader;
using http::ParseResult;
using reactor::Connection;

HttpWorker::HttpWorker(int listen_fd, storage::LogStore* store, const ServerOptions* opts,
                       KvRoutes::MetricsRenderer metrics, AccessLog* access_log,
                       ConnectionSlots* slots, FeedBus* feed_bus,
                       replication::ReplicationNode* repl, FeedBus* ship_bus)
    : listener_(
          std::make_unique<reactor::Listener>(&loop_, listen_fd, [this](int fd) { OnAccept(fd); })),
      opts_(opts),
      limits_(opts->limits()),
      store_(store),
      routes_(store, opts, std::move(metrics)),
      feed_(&loop_, store, opts, feed_bus, &metrics_),
      repl_(repl),
      durability_(opts->fsync == storage::FsyncPolicy::kAlways, repl, &loop_, store, feed_bus,
                  &metrics_, &HttpWorker::FindHold, &HttpWorker::GiveUpOnReplicas, this),
      slots_(slots),
      access_log_(access_log),
      auth_on_(!opts->auth_file.empty()),
      protected_(!auth_on_ && opts->protected_mode),
      feed_bus_(feed_bus),
      ship_bus_(ship_bus) {
  if (repl_ != nullptr) {
    routes_.SetReplication(repl_);
    feed_.SetBound(
        [](const void* r) {
          return static_cast<const replication::ReplicationNode*>(r)->FeedBound();
        },
        repl_);
  }
  if (ship_bus_ != nullptr) {
    ship_member_.wake = &HttpWorker::WakeShip;
    ship_member_.ctx = this;
    ship_bus_->Add(&ship_member_);
  }
}

HttpWorker::~HttpWorker() = default;

void HttpWorker::Run() {
  loop_.TakeOwnership();  // built by HttpServer's thread; this one sets it up, runs it, ends it
#ifdef __linux__
  ::pthread_setname_np(::pthread_self(), kThreadName);  // top -H, gdb, the alloc test
#endif
  // A worker that cannot serve must not leave its SO_REUSEPORT socket taking a share of
  // new connections: the process stops (one line, non-zero exit).
  if (int err = listener_->Start(); err != 0) {
    reactor::Panic("cannot register the listener with the event loop: %s", std::strerror(-err));
  }
  loop_.Run();
  // Loop stopped: whatever is left is closed without running handlers, here, by the loop's
  // owner (the destructor runs on HttpServer's thread).
  sessions_.clear();
  listener_.reset();
}

void HttpWorker::OnAccept(int fd) {
  loop_.AssertInLoopThread();
  if (!AdmitConnection(fd)) return;
  auto session = std::make_unique<HttpSession>(&limits_, slots_);
  session->id = next_session_id_++;
  session->last_read = session->last_write = loop_.now();
  session->conn = std::make_unique<Connection>(&loop_, fd, this);
  Connection* conn = session->conn.get();
  conn->set_context(session.get());
  if (access_log_) AccessLog::FormatPeer(fd, session->peer);
  if (protected_) session->refused_peer = !PeerIsLoopback(fd);
  if (tls_ && !StartTls(*conn)) return;
  if (int err = conn->Start(); err != 0) {
    spdlog::warn("cannot register connection: {}", std::strerror(-err));
    return;  // the Connection destructor closes fd
  }
  HttpSession& s = *session;
  sessions_.emplace(conn, std::move(session));
  // A TLS handshake is held to the head deadline (ProgressOf: it counts as a head).
  ArmDeadline(s, loop_.now() + (tls_ ? opts_->timeouts.header : opts_->timeouts.idle));
  Bump(metrics_.connections_accepted);
  Bump(metrics_.connections_open);
}

void HttpWorker::OnClose(Connection& conn) {
  loop_.AssertInLoopThread();
  auto* s = static_cast<HttpSession*>(conn.context());
  loop_.Cancel(s->timer);
  if (s->watching) feed_.OnClose(conn);
  Bump(metrics_.connections_open, static_cast<uint64_t>(-1));
  Bump(metrics_.send_calls, conn.send_calls());
  if (conn.tls()) NoteTlsClose(conn);
  // Destroy after the current dispatch: the Connection is still on the call stack.
  loop_.Defer([this, c = &conn] {
    sessions_.erase(c);
    MaybeFinishDrain();
  });
}

void HttpWorker::OnData(Connection& conn) {
  loop_.AssertInLoopThread();
  auto& s = *static_cast<HttpSession*>(conn.context());
  Bump(metrics_.bytes_in, conn.bytes_read() - s.seen_in);
  s.seen_in = conn.bytes_read();
  s.last_read = loop_.now();
  while (!s.closing && !conn.output_full() && !s.parked) {
    if (s.watching) {  // a watcher sends nothing but events: anything it sends is dropped
      feed_.OnData(conn);
      break;
    }
    if (s.streaming) {
      if (!ContinueListing(conn, s)) break;
      continue;
    }
    if (conn.input().empty() || !ServeOne(conn, s)) break;
  }
  if (wrote_) {
    // Replicas' fetches may take the records now; under --fsync always the feed is woken
    // once they are durable (DurabilityGate).
    if (ship_bus_ != nullptr) ship_bus_->Notify();
    if (!durability_.durable_on()) feed_bus_->Notify();
    wrote_ = false;
  }
  if (conn.closed()) return;
  NoteRequestProgress(conn, s);
  durability_.AfterBatch(conn, s.id, s.durable);
}

bool HttpWorker::ServeOne(Connection& conn, HttpSession& s) {
  loop_.AssertInLoopThread();
  const bool head_seen = s.parser.headers_complete();
  const ParseResult r = s.parser.Parse(conn.input().readable_span(), &request_);
  if (r.kind == ParseResult::kError) {
    Bump(metrics_.parse_errors);
    RejectAndClose(conn, s, r.status, r.reason, /*head_parsed=*/false);
    return false;
  }
  // request_ is shared by the worker's connections: it holds this connection's head only
  // when the parser filled it in this call (a complete request, or the head just ended).
  const bool fresh_head =
      r.kind == ParseResult::kComplete || (!head_seen && s.parser.headers_complete());
  if (fresh_head && !request_.host_path.empty()) {
    // The original client's "Host: HOST/PATH" (server/routes/host_path.h), decided on the head.
    if (!opts_->compat_seed) {
      Bump(metrics_.parse_errors);
      RejectAndClose(conn, s, 400, HostPathReason(request_), /*head_parsed=*/true);
      return false;
    }
    RewriteHostPath(&request_);
  }
  // Access is decided on the head, once routed: a refused request's body is never read.
  Reply denial;
  std::string_view user = "-";
  const bool denied = fresh_head && Denied(s, &denial, &user);
  if (denied && (s.refused_peer || r.kind == ParseResult::kNeedMore)) {
    CloseWith(conn, s, denial, /*head_parsed=*/true);
    return false;
  }
  if (r.kind == ParseResult::kNeedMore) {
    if (fresh_head) AwaitBody(conn, s);
    return false;
  }
  const bool keep_alive = request_.keep_alive && !draining_;
  const ConnectionHeader ch = !keep_alive                   ? ConnectionHeader::kClose
                              : request_.minor_version == 0 ? ConnectionHeader::kKeepAlive
                                                            : ConnectionHeader::kNone;
  const Reply reply = denied ? denial : routes_.Handle(request_);
  if (reply.replication_fetch) {
    conn.input().Consume(r.consumed);
    s.parser.Reset();
    s.continue_sent = false;
    s.request_start = {};
    return ServeFetch(conn, s, ch);
  }
  const bool head = request_.method == http::Method::kHead;
  durability_.Note(s.durable, reply.sync_token, reply.x_seq > 0 ? uint64_t(reply.x_seq) : 0);
  if (durability_.Holds(reply.sync_token)) conn.HoldOutput();
  if (reply.sync_token != 0) wrote_ = true;
  WriteReply(conn, reply, head, ch);
  routes_.EndRead();  // the body (a view into the store) is copied: end the read section
  const auto latency = RequestLatency(s);
  metrics_.RecordRequest(request_.method, reply.route, reply.status, latency);
  if (access_log_) {
    const uint64_t body = reply.head_length >= 0 || head ? 0 : reply.body.size();
    access_log_->Record(s.peer, loop_.wall_seconds(), request_, reply.status, body, latency, user);
  }
  s.request_start = {};  // the next request starts with its own first byte
  conn.input().Consume(r.consumed);
  s.parser.Reset();
  s.continue_sent = false;
  return AfterReply(conn, s, reply, head, keep_alive);
}

void HttpWorker::AwaitBody(Connection& conn, HttpSession& s) {
  loop_.AssertInLoopThread();
  if (!request_.expect_continue || s.continue_sent) return;
  // RFC 9110 10.1.1: ask for the body only if we are going to read it.
  if (int early = KvRoutes::EarlyStatus(request_); early != 0) {
    RejectAndClose(conn, s, early, "request rejected before its body was sent",
                   /*head_parsed=*/true);
    return;
  }
  http::ResponseWriter::WriteContinue(&conn.output());
  s.continue_sent = true;
}

bool HttpWorker::AfterReply(Connection& conn, HttpSession& s, const Reply& reply, bool head,
                            bool keep_alive) {
  loop_.AssertInLoopThread();
  if (reply.event_stream && !head) {
    StartWatch(conn, s);
    return false;
  }
  if (reply.stream != nullptr && !head) {
    if (!s.listing) s.listing = std::make_unique<ListingCursor>();
    std::swap(*s.listing, *reply.stream);
    s.streaming = true;
    s.close_after_stream = !keep_alive;
    return true;  // OnData continues the listing before the next request
  }
  if (!keep_alive) {
    s.closing = true;
    conn.CloseAfterFlush();
    return false;
  }
  return true;
}

void HttpWorker::StartWatch(Connection& conn, HttpSession& s) {
  loop_.AssertInLoopThread();
  // A watcher is neither idle nor a request in progress: no deadline (heartbeats and the
  // lag cut-off take care of it).
  loop_.Cancel(s.timer);
  s.timer = 0;
  s.watching = true;
  feed_.Start(conn, s.id, routes_.watch());
}

DurabilityGate::Hold* HttpWorker::FindHold(void* ctx, Connection* conn, uint64_t id) {
  auto& sessions = static_cast<HttpWorker*>(ctx)->sessions_;
  auto it = sessions.find(conn);
  return it == sessions.end() || it->second->id != id ? nullptr : &it->second->durable;
}

void HttpWorker::WriteReply(Connection& conn, const Reply& reply, bool head,
                            ConnectionHeader connection) {
  loop_.AssertInLoopThread();
  const size_t before = conn.output().readable_bytes();
  SerializeReply(reply, head, connection, Date(), &conn.output());
  Bump(metrics_.bytes_out, conn.output().readable_bytes() - before);
}

std::string_view HttpWorker::Date() {
  loop_.AssertInLoopThread();
  if (const int64_t now = loop_.wall_seconds(); now != date_second_) {
    http::FormatHttpDate(static_cast<time_t>(now), date_);
    date_second_ = now;
  }
  return {date_, sizeof date_};
}

Clock::duration HttpWorker::RequestLatency(const HttpSession& s) const {
  return s.request_start == Clock::time_point{} ? Clock::duration::zero()
                                                : loop_.now() - s.request_start;
}

bool HttpWorker::ContinueListing(Connection& conn, HttpSession& s) {
  loop_.AssertInLoopThread();
  listing_buf_.clear();
  storage::Status st =
      RenderListingBatch(*store_, s.listing.get(), kListingBatchBytes, &listing_buf_);
  const size_t before = conn.output().readable_bytes();
  http::ResponseWriter w(&conn.output());
  w.Chunk(listing_buf_);
  if (!st.ok()) {
    // Headers are gone already: the only honest signal left is an incomplete body.
    spdlog::error("listing failed mid-stream: {}", st.ToString());
    s.closing = true;
    conn.CloseAfterFlush();
    return false;
  }
  if (s.listing->done) {
    w.EndChunks();
    s.streaming = false;
  }
  Bump(metrics_.bytes_out, conn.output().readable_bytes() - before);
  if (!s.streaming && s.close_after_stream) {
    s.closing = true;
    conn.CloseAfterFlush();
    return false;
  }
  return true;
}

// After a framing error nothing that follows can be trusted: answer and close.
// head_parsed: request_ holds this request's head (else it may be a stale one).
void HttpWorker::RejectAndClose(Connection& conn, HttpSession& s, int status,
                                std::string_view reason, bool head_parsed) {
  loop_.AssertInLoopThread();
  Reply reply;
  reply.status = status;
  reply.content_type = kTextPlain;
  std::string body(reason);  // error path only: allocation is fine here
  body.push_back('\n');
  reply.body = body;
  reply.route = head_parsed ? MatchRoute(request_.path).route : Route::kNone;
  if (status == 405) reply.allow = AllowHeader(reply.route);
  CloseWith(conn, s, reply, head_parsed);
}

void HttpWorker::CloseWith(Connection& conn, HttpSession& s, const Reply& reply, bool head_parsed) {
  loop_.AssertInLoopThread();
  // An answer to HEAD carries no body, an error answer neither (RFC 9110 9.3.2).
  const bool head = head_parsed && request_.method == http::Method::kHead;
  WriteReply(conn, reply, head, ConnectionHeader::kClose);
  metrics_.RecordRequest(head_parsed ? request_.method : http::Method::kOther, reply.route,
                         reply.status, RequestLatency(s));
  s.closing = true;
  conn.input().ConsumeAll();
  conn.CloseAfterFlush();
}

void HttpWorker::BeginDrain() {
  loop_.Post([this] { DrainNow(); });
}

void HttpWorker::DrainNow() {
  loop_.AssertInLoopThread();
  draining_ = true;
  listener_->Stop();
  // Idle keep-alive connections are closed at a response boundary: now. Busy ones get
  // "Connection: close" on their current response and close after it.
  std::vector<Connection*> idle;
  feed_.EndAll("server shutting down");
  for (auto& [conn, s] : sessions_) {
    if (conn->input().empty() && conn->output().empty() && !s->parser.headers_complete()) {
      idle.push_back(conn);
    }
  }
  for (Connection* c : idle) c->Close();
  loop_.RunAfter(opts_->drain_timeout, [this] {
    if (!sessions_.empty()) spdlog::warn("drain timeout: closing {} connections", sessions_.size());
    std::vector<Connection*> all;
    for (auto& [conn, s] : sessions_) all.push_back(conn);
    for (Connection* c : all) c->Close();
    loop_.Quit();
  });
  MaybeFinishDrain();
}

void HttpWorker::MaybeFinishDrain() {
  loop_.AssertInLoopThread();
  if (draining_ && sessions_.empty()) loop_.Quit();
}

}  // namespace httpkv::server
