// The load generator's TLS client context (--tls, --cacert): one SSL_CTX for the whole
// run, shared read-only by every worker thread (SSL_new on it is thread-safe). The
// per-connection half lives in ClientConn (client_conn_tls.cc): a non-blocking SSL on
// the connection's socket, handshake and records driven by the worker's event loop.
#pragma once

#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace httpkv::bench {

// Verifies the server against `cacert` (PEM; empty: the system store); TLS 1.2 and
// 1.3, ALPN http/1.1, client session cache off (every connection a full handshake
// unless --tls-resume). nullptr with a one-line *error.
SSL_CTX* NewClientTlsContext(const std::string& cacert, std::string* error);
void FreeClientTlsContext(SSL_CTX* ctx);

}  // namespace httpkv::bench
