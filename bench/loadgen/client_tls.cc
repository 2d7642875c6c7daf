#include "bench/loadgen/client_tls.h"

#include <openssl/ssl.h>

#include "reactor/tls_context.h"

namespace httpkv::bench {

SSL_CTX* NewClientTlsContext(const std::string& cacert, std::string* error) {
  return reactor::NewClientSslCtx(cacert, error);
}

void FreeClientTlsContext(SSL_CTX* ctx) {
  SSL_CTX_free(ctx);
}

}  // namespace httpkv::bench
