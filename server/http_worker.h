// HttpWorker: one reactor thread. It owns an EventLoop, its own SO_REUSEPORT Listener
// (so there is no accept lock and no hand-off between threads), the connections it
// accepted, a scratch Request and its KvRoutes. Requests are parsed straight out of
// each connection's input buffer; every response of one read batch is appended to
// the output buffer and leaves in one write (Connection flushes after OnData).
//
// Thread affinity: everything runs on the worker's thread except BeginDrain() and
// Quit(), which post to it. metrics() may be read from any thread (relaxed atomics).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/request.h"
#include "http/request_parser.h"
#include "http/response_writer.h"
#include "reactor/connection.h"
#include "reactor/event_loop.h"
#include "reactor/listener.h"
#include "reactor/tls_context.h"
#include "server/access_log.h"
#include "server/auth/token_set.h"
#include "server/base/metrics.h"
#include "server/base/server_options.h"
#include "server/connection_cap.h"
#include "server/durability_gate.h"
#include "server/feed/feed_bus.h"
#include "server/feed/feed_watchers.h"
#include "server/routes/kv_routes.h"
#include "server/routes/listing.h"

namespace httpkv::server {

// Per-connection protocol state.
struct HttpSession {
  // Holds one of the process's connection slots until destroyed.
  HttpSession(const http::Limits* limits, ConnectionSlots* slots) : parser(limits), slots(slots) {}
  ~HttpSession() { slots->Release(); }
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;
  http::RequestParser parser;
  ConnectionSlots* slots;
  std::unique_ptr<reactor::Connection> conn;
  uint64_t id = 0;  // unique per worker: tells a recycled Connection address apart
  // Deadlines (see server/base/deadline.h): one timer per connection, firing at timer_at; moved
  // when it fires, or earlier when a head or body deadline comes before it.
  reactor::TimerId timer = 0;
  Clock::time_point timer_at;
  Clock::time_point last_read, last_write;
  // The wake-up that brought the current request's first byte (deadlines, latency);
  // zero while no request is in progress.
  Clock::time_point request_start;
  uint64_t seen_written = 0;
  // --fsync always: output is held until the log is durable (server/durability_gate.h).
  DurabilityGate::Hold durable;
  uint64_t seen_in = 0;        // bytes already counted in metrics
  bool continue_sent = false;  // 100 Continue already sent for the current request
  bool closing = false;        // answer nothing more; close once output is written
  // The peer's address for the access log, formatted once at accept (log on only).
  char peer[AccessLog::kPeerChars] = "-";
  // Protected mode (server/auth/peer_policy.h): the peer is not loopback; its first request gets
  // 403.
  bool refused_peer = false;
  // A chunked listing still being sent; requests behind it wait (pipelining order).
  std::unique_ptr<ListingCursor> listing;
  bool streaming = false;
  bool close_after_stream = false;
  // Handed to FeedWatchers (server/feed/feed_watchers.h): a change-feed watcher answers
  // nothing more and streams events.
  bool watching = false;
  // A replica's log fetch waits for records (http_worker_replication.cc): nothing else is
  // served on the connection until it is answered.
  bool parked = false;
};

class HttpWorker final : public reactor::ConnectionHandler {
 public:
  // repl: a replicated shard's member (nullptr: standalone); ship_bus wakes the workers
  // holding replicas' log fetches after writes (with repl only).
  HttpWorker(int listen_fd, storage::LogStore* store, const ServerOptions* opts,
             KvRoutes::MetricsRenderer metrics, AccessLog* access_log, ConnectionSlots* slots,
             FeedBus* feed_bus, replication::ReplicationNode* repl = nullptr,
             FeedBus* ship_bus = nullptr);
  ~HttpWorker();

  // The name Run() gives its thread (Linux: at most 15 characters).
  static constexpr const char* kThreadName = "httpkv-reactor";
  // Thread body: registers the listener and runs the loop until drained or quit.
  void Run();
  // Stop accepting, close idle connections, finish in-flight requests, then stop the
  // loop (or stop after opts->drain_timeout, closing what is left). Any thread.
  void BeginDrain();
  const WorkerMetrics& metrics() const { return metrics_; }
  // The --auth-file tokens (http_worker_access.cc). SetTokens: before Run() only.
  // PostTokens (SIGHUP, any thread): the loop thread swaps them in between requests,
  // then calls applied() there; requests never read a set another thread writes.
  void SetTokens(std::shared_ptr<const TokenSet> tokens) {
    loop_.AssertInLoopThread();
    tokens_ = std::move(tokens);
  }
  void PostTokens(std::shared_ptr<const TokenSet> tokens, std::function<void()> applied);

  void OnData(reactor::Connection& conn) override;
  void OnClose(reactor::Connection& conn) override;
  void OnTlsEstablished(reactor::Connection& conn) override;  // http_worker_tls.cc

  // HTTPS: connections accepted from now on use `ctx` (empty: plain HTTP).
  // SetTlsContext: before the worker's thread starts, from the thread that builds it.
  // PostTlsContext (SIGHUP; any thread, also while the loop has not bound its thread yet):
  // always posted, so only the loop thread assigns it; `applied` then runs there.
  void SetTlsContext(reactor::TlsContext ctx);
  void PostTlsContext(reactor::TlsContext ctx, std::function<void()> applied);
  // The shard's commit seq advanced, or records arrived from the primary (any thread).
  void PostReplicationProgress();
  // The node's placement (server/routes/published_owner_map.h): before Run() only.
  void SetPlacement(PublishedOwnerMap* placement) {
    loop_.AssertInLoopThread();
    routes_.SetPlacement(placement);
  }
  // Placement's barrier: true on this worker's loop thread; Post runs `task` on it.
  bool InLoopThread() const { return loop_.IsInLoopThread(); }
  void Post(std::function<void()> task) { loop_.Post(std::move(task)); }

 private:
  void OnAccept(int fd);
  // Parses and answers one request from the front of the input. False: stop for now.
  bool ServeOne(reactor::Connection& conn, HttpSession& s);
  // A head without its body yet: answers Expect: 100-continue (or refuses the body early).
  void AwaitBody(reactor::Connection& conn, HttpSession& s);
  // After the answer is written: start a watch or a streamed listing, or close. ServeOne's
  // result.
  bool AfterReply(reactor::Connection& conn, HttpSession& s, const Reply& reply, bool head,
                  bool keep_alive);
  void WriteReply(reactor::Connection& conn, const Reply& reply, bool head,
                  http::ConnectionHeader connection);
  // The Date header for this wake-up (formatted once per second of the loop's clock).
  std::string_view Date();
  // From the wake-up that brought the request's first byte to this one: the loop's
  // resolution, no clock read (a request that arrives and is answered in one wake-up
  // counts 0).
  Clock::duration RequestLatency(const HttpSession& s) const;
  // Sends the next chunk of a streamed listing. False: stop serving for now.
  bool ContinueListing(reactor::Connection& conn, HttpSession& s);
  // The connection becomes a change-feed watcher: no deadline, FeedWatchers streams.
  void StartWatch(reactor::Connection& conn, HttpSession& s);
  void RejectAndClose(reactor::Connection& conn, HttpSession& s, int status,
                      std::string_view reason, bool head_parsed);
  void CloseWith(reactor::Connection& conn, HttpSession& s, const Reply& reply, bool head_parsed);
  // Access (http_worker_access.cc): true, with the 401/403 in *reply, if request_ (a
  // fresh head) may not be served: protected mode or --auth-file. *user: the NAME of a
  // known token (for the access log; valid until the tokens are swapped, between events).
  bool Denied(const HttpSession& s, Reply* reply, std::string_view* user) const;
  void DrainNow();
  void MaybeFinishDrain();
  // Deadlines (http_worker_deadlines.cc).
  void ArmDeadline(HttpSession& s, Clock::time_point at);
  void OnDeadline(reactor::Connection* conn);
  static ConnProgress ProgressOf(reactor::Connection& conn, const HttpSession& s,
                                 Clock::time_point now);
  void NoteRequestProgress(reactor::Connection& conn, HttpSession& s);
  bool AdmitConnection(int fd);
  // TLS (http_worker_tls.cc): starts the handshake on a new connection; false: closed.
  bool StartTls(reactor::Connection& conn);
  void NoteTlsClose(const reactor::Connection& conn);
  // DurabilityGate's lookup of a live session's Hold, and its 503 for writes that waited
  // for replicas past --sync-timeout.
  static DurabilityGate::Hold* FindHold(void* ctx, reactor::Connection* conn, uint64_t id);
  static void GiveUpOnReplicas(void* ctx, reactor::Connection* conn);
  // Replication (http_worker_replication.cc): a replica's log fetch is answered at once
  // when there are records (or a verdict), else held until records arrive or kFetchHold.
  bool ServeFetch(reactor::Connection& conn, HttpSession& s, http::ConnectionHeader ch);
  // False when it parked the fetch (nothing to send yet and may_park).
  bool AnswerFetch(reactor::Connection& conn, const replication::FetchRequest& req, bool may_park);
  void Park(reactor::Connection& conn, HttpSession& s);
  void PumpParked(bool expire_only);
  static void WakeShip(void* ctx);  // any thread

  reactor::EventLoop loop_;
  std::unique_ptr<reactor::Listener> listener_;
  const ServerOptions* opts_;
  const http::Limits limits_;
  storage::LogStore* store_;
  KvRoutes routes_;
  WorkerMetrics metrics_;
  FeedWatchers feed_;                   // this worker's change-feed watchers
  replication::ReplicationNode* repl_;  // nullptr: standalone
  DurabilityGate durability_;           // acknowledgements held until durable (and replicated)
  http::Request request_;    // scratch: filled by the parser for the request being served
  std::string listing_buf_;  // scratch: one rendered listing batch
  std::unordered_map<reactor::Connection*, std::unique_ptr<HttpSession>> sessions_;
  bool draining_ = false;
  uint64_t next_session_id_ = 1;
  ConnectionSlots* slots_;  // the process-wide --max-connections
  AccessLog* access_log_;   // nullptr: no access log
  const bool auth_on_;      // --auth-file given: tokens_ decide (nullptr: nothing passes)
  const bool protected_;    // protected mode: non-loopback peers are refused
  std::shared_ptr<const TokenSet> tokens_;  // read and replaced on this thread only
  reactor::TlsContext tls_;  // empty: plain HTTP; a copy per worker (SIGHUP swaps it)
  FeedBus* feed_bus_;        // notified after a read batch that wrote
  bool wrote_ = false;       // a write was served since the last Notify
  // Replication: replicas' log fetches held until records arrive (conn, session id, request,
  // when to answer empty), this worker's membership of the ship bus, and the shipment buffer.
  struct ParkedFetch {
    reactor::Connection* conn;
    uint64_t id;
    replication::FetchRequest req;
    Clock::time_point until;
    uint64_t commit;  // the commit seq when it was held: a replica learns of a newer one
  };
  std::vector<ParkedFetch> parked_;
  std::vector<ParkedFetch> parked_batch_;
  FeedBus* ship_bus_;
  FeedBus::Member ship_member_;
  reactor::TimerId park_timer_ = 0;
  std::string ship_buf_;
  std::string ship_history_;
  int64_t date_second_ = -1;
  char date_[29];
};

}  // namespace httpkv::server
