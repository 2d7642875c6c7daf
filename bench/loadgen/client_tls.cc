#include "bench/loadgen/client_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace httpkv::bench {

namespace {

std::string OpenSslError() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

SSL_CTX* NewClientTlsContext(const std::string& cacert, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = "TLS: " + OpenSslError();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
  const int ok = cacert.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                : SSL_CTX_load_verify_locations(ctx, cacert.c_str(), nullptr);
  if (ok != 1) {
    *error = "--cacert " + cacert + ": " + OpenSslError();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

void FreeClientTlsContext(SSL_CTX* ctx) {
  SSL_CTX_free(ctx);
}

}  // namespace httpkv::bench
