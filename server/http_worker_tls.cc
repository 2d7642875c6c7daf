// HttpWorker's HTTPS side: which TLS context new connections get, and the TLS counters.
// The transport itself is the reactor's (reactor/connection.h, reactor/tls_session.h);
// HTTP parsing never sees TLS.
#include <spdlog/spdlog.h>

#include <cstring>

#include "server/http_worker.h"

namespace httpkv::server {

using reactor::Connection;

void HttpWorker::SetTlsContext(reactor::TlsContext ctx) {
  loop_.AssertInLoopThread();
  tls_ = std::move(ctx);
}

// Not "assign if IsInLoopThread()": before Run() binds the loop's thread every thread
// passes that test, and a SIGHUP right after Start() assigned tls_ from the main thread while
// the worker read it in OnAccept.
void HttpWorker::PostTlsContext(reactor::TlsContext ctx, std::function<void()> applied) {
  loop_.Post([this, ctx = std::move(ctx), applied = std::move(applied)]() mutable {
    loop_.AssertInLoopThread();
    // The old context lives on in the SSLs of connections accepted with it.
    tls_ = std::move(ctx);
    if (applied) applied();
  });
}

bool HttpWorker::StartTls(Connection& conn) {
  loop_.AssertInLoopThread();
  if (int err = conn.EnableTls(tls_); err != 0) {
    spdlog::warn("cannot start TLS on a connection: {}", std::strerror(-err));
    return false;  // the caller's Connection destructor closes the fd
  }
  return true;
}

void HttpWorker::OnTlsEstablished(Connection& conn) {
  loop_.AssertInLoopThread();
  Bump(metrics_.tls_handshakes);
  if (conn.tls_resumed()) Bump(metrics_.tls_resumed);
  if (conn.ktls_send()) Bump(metrics_.tls_ktls_send);
}

void HttpWorker::NoteTlsClose(const Connection& conn) {
  loop_.AssertInLoopThread();
  if (conn.plain_http_on_tls()) {
    Bump(metrics_.tls_plain_http);
  } else if (!conn.tls_established()) {
    Bump(metrics_.tls_handshake_failures);
  }
}

}  // namespace httpkv::server
