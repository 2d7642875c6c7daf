// HttpServer's HTTPS configuration: the TLS context at start-up and on SIGHUP.
#include "server/http_server.h"
#include "server/loop_acks.h"

namespace httpkv::server {

bool HttpServer::LoadTls(std::string* error) {
  if (!opts_.tls()) return true;
  reactor::TlsContext ctx =
      reactor::TlsContext::LoadServer(opts_.tls_cert, opts_.tls_key, error, opts_.tls_ktls);
  if (!ctx) return false;
  tls_ = std::move(ctx);
  return true;
}

bool HttpServer::ReloadTls(std::string* error, std::string* warning) {
  warning->clear();
  if (!opts_.tls()) return true;
  reactor::TlsContext ctx =
      reactor::TlsContext::LoadServer(opts_.tls_cert, opts_.tls_key, error, opts_.tls_ktls);
  if (!ctx) return false;
  tls_ = ctx;
  // Posted: each loop swaps its own copy. Wait for all of them, so that once this
  // returns (and the reload is logged) every new connection gets the new certificate.
  LoopAcks acks(workers_.size());
  for (auto& w : workers_) w->PostTlsContext(ctx, acks.Ack());
  if (!acks.WaitFor(std::chrono::seconds(10)))
    *warning = "not every reactor thread took the new certificate within 10 s";
  return true;
}

}  // namespace httpkv::server
