// HttpServer's HTTPS configuration: the TLS context at start-up and on SIGHUP.
#include "server/http_server.h"

namespace httpkv::server {

bool HttpServer::LoadTls(std::string* error) {
  if (!opts_.tls()) return true;
  reactor::TlsContext ctx = reactor::TlsContext::LoadServer(opts_.tls_cert, opts_.tls_key, error);
  if (!ctx) return false;
  tls_ = std::move(ctx);
  return true;
}

bool HttpServer::ReloadTls(std::string* error) {
  if (!opts_.tls()) return true;
  reactor::TlsContext ctx = reactor::TlsContext::LoadServer(opts_.tls_cert, opts_.tls_key, error);
  if (!ctx) return false;
  tls_ = ctx;
  for (auto& w : workers_) w->SetTlsContext(ctx);  // posted: each loop swaps its own copy
  return true;
}

}  // namespace httpkv::server
