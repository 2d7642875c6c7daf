// HttpWorker: one reactor thread. It owns an EventLoop, its own SO_REUSEPORT Listener
// (so there is no accept lock and no hand-off between threads), the connections it
// accepted, a scratch Request and its KvRoutes. Requests are parsed straight out of
// each connection's input buffer; every response of one read batch is appended to
// the output buffer and leaves in one write (Connection flushes after OnData).
//
// Thread affinity: everything runs on the worker's thread except BeginDrain() and
// Quit(), which post to it. metrics() may be read from any thread (relaxed atomics).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "http/request.h"
#include "http/request_parser.h"
#include "http/response_writer.h"
#include "reactor/connection.h"
#include "reactor/event_loop.h"
#include "reactor/listener.h"
#include "server/access_log.h"
#include "server/kv_routes.h"
#include "server/listing.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace httpkv::server {

// Per-connection protocol state.
struct HttpSession {
  explicit HttpSession(const http::Limits* limits) : parser(limits) {}
  http::RequestParser parser;
  std::unique_ptr<reactor::Connection> conn;
  uint64_t id = 0;  // unique per worker: tells a recycled Connection address apart
  // Deadlines (see deadline.h): one timer per connection, moved only when it fires.
  reactor::TimerId timer = 0;
  Clock::time_point last_read, last_write, request_start;
  uint64_t seen_written = 0;
  // --fsync always: output is held until the log is durable up to pending_token.
  uint64_t pending_token = 0;
  uint64_t inflight_token = 0;
  uint64_t seen_in = 0;        // bytes already counted in metrics
  bool continue_sent = false;  // 100 Continue already sent for the current request
  bool closing = false;        // answer nothing more; close once output is written
  // A chunked listing still being sent; requests behind it wait (pipelining order).
  std::unique_ptr<ListingCursor> listing;
  bool streaming = false;
  bool close_after_stream = false;
};

class HttpWorker final : public reactor::ConnectionHandler {
 public:
  HttpWorker(int listen_fd, storage::LogStore* store, const ServerOptions* opts,
             KvRoutes::MetricsRenderer metrics, AccessLog* access_log);
  ~HttpWorker();

  // Thread body: registers the listener and runs the loop until drained or quit.
  void Run();
  // Stop accepting, close idle connections, finish in-flight requests, then stop the
  // loop (or stop after opts->drain_timeout, closing what is left). Any thread.
  void BeginDrain();
  const WorkerMetrics& metrics() const { return metrics_; }

  void OnData(reactor::Connection& conn) override;
  void OnClose(reactor::Connection& conn) override;

 private:
  void OnAccept(int fd);
  // Parses and answers one request from the front of the input. False: stop for now.
  bool ServeOne(reactor::Connection& conn, HttpSession& s);
  void WriteReply(reactor::Connection& conn, const Reply& reply, bool head,
                  http::ConnectionHeader connection);
  // Sends the next chunk of a streamed listing. False: stop serving for now.
  bool ContinueListing(reactor::Connection& conn, HttpSession& s);
  void RejectAndClose(reactor::Connection& conn, HttpSession& s, int status,
                      std::string_view reason, bool head_parsed);
  void DrainNow();
  void MaybeFinishDrain();
  // Deadlines (http_worker_deadlines.cc).
  void ArmDeadline(HttpSession& s, Clock::time_point at);
  void OnDeadline(reactor::Connection* conn);
  void NoteRequestProgress(reactor::Connection& conn, HttpSession& s);
  bool AdmitConnection(int fd);
  // Group commit (http_worker_deadlines.cc): hold acknowledgements until durable.
  void AwaitDurability(reactor::Connection& conn, HttpSession& s);
  struct DurableWait;  // SyncAsync's context: which connection waits for which token
  static void OnSyncDone(void* ctx, const storage::Status& st);  // on the store's sync thread
  void OnDurable(reactor::Connection* conn, uint64_t id, uint64_t token, storage::Status st);

  reactor::EventLoop loop_;
  std::unique_ptr<reactor::Listener> listener_;
  const ServerOptions* opts_;
  const http::Limits limits_;
  storage::LogStore* store_;
  KvRoutes routes_;
  WorkerMetrics metrics_;
  http::Request request_;    // scratch: filled by the parser for the request being served
  std::string listing_buf_;  // scratch: one rendered listing batch
  std::unordered_map<reactor::Connection*, std::unique_ptr<HttpSession>> sessions_;
  bool draining_ = false;
  uint64_t next_session_id_ = 1;
  size_t max_connections_;  // this worker's share of --max-connections
  const bool hold_for_fsync_;
  AccessLog* access_log_;  // nullptr: no access log
};

}  // namespace httpkv::server
