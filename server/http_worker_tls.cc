// HttpWorker's HTTPS side: which TLS context new connections get, and the TLS counters.
// The transport itself is the reactor's (reactor/connection.h, reactor/tls_session.h);
// HTTP parsing never sees TLS.
#include <spdlog/spdlog.h>

#include <cstring>

#include "server/http_worker.h"

namespace httpkv::server {

using reactor::Connection;

void HttpWorker::SetTlsContext(reactor::TlsContext ctx, std::function<void()> swapped) {
  if (!loop_.IsInLoopThread()) {
    loop_.Post([this, ctx = std::move(ctx), swapped = std::move(swapped)]() mutable {
      SetTlsContext(std::move(ctx), std::move(swapped));
    });
    return;
  }
  // The old context lives on in the SSLs of connections accepted with it.
  tls_ = std::move(ctx);
  if (swapped) swapped();
}

bool HttpWorker::StartTls(Connection& conn) {
  if (int err = conn.EnableTls(tls_); err != 0) {
    spdlog::warn("cannot start TLS on a connection: {}", std::strerror(-err));
    return false;  // the caller's Connection destructor closes the fd
  }
  return true;
}

void HttpWorker::OnTlsEstablished(Connection& conn) {
  Bump(metrics_.tls_handshakes);
  if (conn.tls_resumed()) Bump(metrics_.tls_resumed);
  if (conn.ktls_send()) Bump(metrics_.tls_ktls_send);
}

void HttpWorker::NoteTlsClose(const Connection& conn) {
  if (conn.plain_http_on_tls()) {
    Bump(metrics_.tls_plain_http);
  } else if (!conn.tls_established()) {
    Bump(metrics_.tls_handshake_failures);
  }
}

}  // namespace httpkv::server
