// HttpWorker's per-connection deadlines, admission control and group-commit holds.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "server/http_worker.h"

namespace httpkv::server {

using reactor::Connection;

bool HttpWorker::AdmitConnection(int fd) {
  if (sessions_.size() < max_connections_ && !draining_) return true;
  // Over the cap: a plain answer beats a silent reset, and costs no state.
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 29\r\n"
      "Connection: close\r\nRetry-After: 1\r\n\r\ntoo many connections, retry\r\n";
  (void)::send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
  Bump(metrics_.connections_rejected);
  return false;
}

void HttpWorker::ArmDeadline(HttpSession& s, Clock::time_point at) {
  const auto delay = at > loop_.now() ? at - loop_.now() : Clock::duration::zero();
  s.timer = loop_.RunAfter(delay, [this, c = s.conn.get()] { OnDeadline(c); });
}

// Called after OnData: a head that just started fixes its deadline now.
void HttpWorker::NoteRequestProgress(Connection& conn, HttpSession& s) {
  const bool partial_head = !conn.input().empty() && !s.parser.headers_complete();
  if (!partial_head) {
    s.request_start = {};
  } else if (s.request_start == Clock::time_point{}) {
    s.request_start = loop_.now();
  }
}

void HttpWorker::OnDeadline(Connection* conn) {
  auto& s = *static_cast<HttpSession*>(conn->context());
  s.timer = 0;
  const Clock::time_point now = loop_.now();
  if (conn->bytes_written() != s.seen_written) {
    s.seen_written = conn->bytes_written();
    s.last_write = now;
  }
  ConnProgress p;
  p.output_pending = !conn->output().empty() && !conn->output_held();
  p.reading_body = s.parser.headers_complete();
  p.reading_head = !p.reading_body && !conn->input().empty();
  p.last_read = s.last_read;
  p.last_write = s.last_write;
  p.request_start = s.request_start == Clock::time_point{} ? now : s.request_start;
  const DeadlineVerdict v = CheckDeadline(p, opts_->timeouts, now);
  switch (v.action) {
    case DeadlineAction::kWait:
      ArmDeadline(s, v.at);
      return;
    case DeadlineAction::kCloseIdle:
    case DeadlineAction::kCloseWriter:
      Bump(metrics_.timeouts);
      conn->Close();
      return;
    case DeadlineAction::kRequestTimeout:
      Bump(metrics_.timeouts);
      RejectAndClose(*conn, s, 408, "request not received in time", /*head_parsed=*/false);
      return;
  }
}

// --fsync always: the responses just queued acknowledge writes that are in the log
// but not yet on disk. Hold them; the store's sync thread runs one fdatasync for
// every write queued so far (all connections, all threads) and calls back.
struct HttpWorker::DurableWait {
  HttpWorker* worker;
  Connection* conn;
  uint64_t id;
  uint64_t token;
};

void HttpWorker::AwaitDurability(Connection& conn, HttpSession& s) {
  conn.HoldOutput();
  s.inflight_token = s.pending_token;
  auto wait = std::make_unique<DurableWait>(DurableWait{this, &conn, s.id, s.pending_token});
  store_->SyncAsync(s.pending_token, &HttpWorker::OnSyncDone, wait.release());
}

void HttpWorker::OnSyncDone(void* ctx, const storage::Status& st) {
  const std::unique_ptr<DurableWait> w(static_cast<DurableWait*>(ctx));
  // Usually on the sync thread: hop back to the connection's loop.
  w->worker->loop_.Post([worker = w->worker, c = w->conn, id = w->id, token = w->token, st] {
    worker->OnDurable(c, id, token, st);
  });
}

void HttpWorker::OnDurable(Connection* conn, uint64_t id, uint64_t token, storage::Status st) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end() || it->second->id != id || conn->closed()) return;
  HttpSession& s = *it->second;
  if (!st.ok()) {
    // The acknowledgements in the buffer are not true: they must never be sent.
    spdlog::error("fsync failed, dropping connection with unsent acknowledgements: {}",
                  st.ToString());
    conn->Abort();
    return;
  }
  if (s.pending_token > token) return;  // a later group is already on its way
  conn->ReleaseOutput();
}

}  // namespace httpkv::server
