#include "reactor/tls_session.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <climits>

namespace httpkv::reactor {

TlsSession::TlsSession(SSL_CTX* ctx, int fd) : ssl_(SSL_new(ctx)) {
  if (ssl_ == nullptr) return;
  if (SSL_set_fd(ssl_, fd) != 1) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

TlsIo TlsSession::Classify(int ret) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsIo::kClosed;
    default:  // SSL_ERROR_SSL (protocol), SSL_ERROR_SYSCALL (socket error)
      ERR_clear_error();
      return TlsIo::kFailed;
  }
}

TlsIo TlsSession::Handshake() {
  const int r = SSL_do_handshake(ssl_);
  return r == 1 ? TlsIo::kDone : Classify(r);
}

TlsIo TlsSession::Read(char* dst, size_t len, size_t* n) {
  *n = 0;
  const int r = SSL_read(ssl_, dst, static_cast<int>(len > INT_MAX ? INT_MAX : len));
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return Classify(r);
}

TlsIo TlsSession::Write(const char* src, size_t len, size_t* n) {
  *n = 0;
  const int r = SSL_write(ssl_, src, static_cast<int>(len > INT_MAX ? INT_MAX : len));
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return Classify(r);
}

bool TlsSession::HasPending() const {
  return SSL_has_pending(ssl_) == 1;
}

bool TlsSession::ktls_send() const {
  return BIO_get_ktls_send(SSL_get_wbio(ssl_)) == 1;
}

bool TlsSession::resumed() const {
  return SSL_session_reused(ssl_) == 1;
}

void TlsSession::Shutdown() {
  if (SSL_is_init_finished(ssl_) == 1) (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace httpkv::reactor
