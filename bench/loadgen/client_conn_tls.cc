// ClientConn's TLS half (--tls): a non-blocking SSL on the connection's socket. The
// handshake follows readiness in either direction; reads and writes mimic read(2) and
// send(2) so the plain paths stay as they are.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <climits>

#include "bench/loadgen/client_conn.h"
#include "bench/loadgen/worker.h"

namespace httpkv::bench {

namespace {

int Clamp(size_t n) {
  return static_cast<int>(n > INT_MAX ? INT_MAX : n);
}

}  // namespace

void ClientConn::StartTls() {
  const Options& opt = *w_->shared().opt;
  ssl_ = SSL_new(opt.tls_ctx);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return Fail(Failure::kConnect);
  // The certificate must name the --target host (an IP literal or a DNS name).
  const std::string host = opt.target.substr(0, opt.target.rfind(':'));
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
  }
  SSL_set_connect_state(ssl_);
  state_ = State::kHandshaking;
  ContinueHandshake();
}

void ClientConn::ContinueHandshake() {
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    SetInterest(reactor::kReadable);
    ++w_->stats().tls_handshakes;
    return OnConnected();
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return SetInterest(reactor::kReadable);
    case SSL_ERROR_WANT_WRITE:
      return SetInterest(reactor::kWritable);
    default:
      ERR_clear_error();
      return Fail(Failure::kConnect);
  }
}

ssize_t ClientConn::ReadTls(reactor::Buffer& buf, size_t min_space) {
  buf.EnsureWritable(min_space);
  size_t total = 0;
  // Many records per call (pipelined responses), up to the free space.
  while (buf.writable_bytes() > 0) {
    const int r = SSL_read(ssl_, buf.begin_write(), Clamp(buf.writable_bytes()));
    if (r > 0) {
      buf.Commit(static_cast<size_t>(r));
      total += static_cast<size_t>(r);
      continue;
    }
    const int e = SSL_get_error(ssl_, r);
    if (total > 0 && e != SSL_ERROR_SSL && e != SSL_ERROR_SYSCALL) break;
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ) return -EAGAIN;
    if (e == SSL_ERROR_WANT_WRITE) {
      // Rare (a key update): wait for writability, then reads resume via Flush/Fill.
      SetInterest(reactor::kReadable | reactor::kWritable);
      want_write_ = true;
      return -EAGAIN;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (total > 0) break;
    return e == SSL_ERROR_SYSCALL && errno == 0 ? 0 : -EIO;
  }
  return static_cast<ssize_t>(total);
}

ssize_t ClientConn::SendTls(const char* data, size_t len) {
  const int r = SSL_write(ssl_, data, Clamp(len));
  if (r > 0) return r;
  const int e = SSL_get_error(ssl_, r);
  ERR_clear_error();
  errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
  return -1;
}

bool ClientConn::TlsPending() const {
  return SSL_has_pending(ssl_) == 1;
}

void ClientConn::CloseTls() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  ssl_ = nullptr;
}

}  // namespace httpkv::bench
