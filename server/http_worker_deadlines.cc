// HttpWorker's per-connection deadlines and admission control.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "server/http_worker.h"

namespace httpkv::server {

using reactor::Connection;

// Takes a process-wide slot (released when the session is destroyed) or answers 503.
bool HttpWorker::AdmitConnection(int fd) {
  loop_.AssertInLoopThread();
  if (!draining_ && slots_->TryAcquire()) return true;
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
  loop_.AssertInLoopThread();
  const Clock::time_point now = loop_.now();
  s.timer_at = at > now ? at : now;
  s.timer = loop_.RunAfter(s.timer_at - now, [this, c = s.conn.get()] { OnDeadline(c); });
}

ConnProgress HttpWorker::ProgressOf(Connection& conn, const HttpSession& s, Clock::time_point now) {
  ConnProgress p;
  p.output_pending = !conn.output().empty() && !conn.output_held();
  p.reading_body = s.parser.headers_complete();
  p.reading_head = !p.reading_body && !conn.input().empty();
  p.last_read = s.last_read;
  p.last_write = s.last_write;
  p.request_start = s.request_start == Clock::time_point{} ? now : s.request_start;
  if (conn.handshaking()) {
    // A TLS handshake is held to the head deadline, counted from the accept (last_read
    // is the accept time until the first OnData).
    p.reading_head = true;
    p.request_start = s.last_read;
  }
  return p;
}

// Called after OnData: a request that just started (bytes of it are buffered, or its
// head is parsed and its body awaited) fixes its start now, and a head or body deadline
// earlier than the armed timer moves the timer (server/base/deadline.h).
void HttpWorker::NoteRequestProgress(Connection& conn, HttpSession& s) {
  loop_.AssertInLoopThread();
  const Clock::time_point now = loop_.now();
  const bool in_request = !conn.input().empty() || s.parser.headers_complete();
  if (!in_request) {
    s.request_start = {};
  } else if (s.request_start == Clock::time_point{}) {
    s.request_start = now;
  }
  if (s.closing || s.timer == 0) return;
  if (auto at = EarlierDeadline(ProgressOf(conn, s, now), opts_->timeouts, s.timer_at)) {
    loop_.Cancel(s.timer);
    ArmDeadline(s, *at);
  }
}

void HttpWorker::OnDeadline(Connection* conn) {
  loop_.AssertInLoopThread();
  auto& s = *static_cast<HttpSession*>(conn->context());
  s.timer = 0;
  const Clock::time_point now = loop_.now();
  if (conn->bytes_written() != s.seen_written) {
    s.seen_written = conn->bytes_written();
    s.last_write = now;
  }
  const DeadlineVerdict v = CheckDeadline(ProgressOf(*conn, s, now), opts_->timeouts, now);
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
      if (conn->handshaking()) {  // no TLS channel yet to carry a 408
        conn->Close();
        return;
      }
      RejectAndClose(*conn, s, 408, "request not received in time", /*head_parsed=*/false);
      return;
  }
}

}  // namespace httpkv::server
