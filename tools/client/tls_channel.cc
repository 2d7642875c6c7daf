#include "tools/client/tls_channel.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "reactor/inet_address.h"
#include "reactor/tls_context.h"

namespace httpkv::client {

namespace {

std::string OpenSslError() {
  return reactor::TakeOpenSslError("connection closed during the TLS handshake");
}

int RemainingMs(TlsChannel::Deadline deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)) : 0;
}

// The host part of "NAME[:PORT]" or "[V6]:PORT".
std::string HostOnly(std::string_view target) {
  if (!target.empty() && target.front() == '[') {
    const size_t close = target.find(']');
    return std::string(target.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  const size_t colon = target.rfind(':');
  if (colon != std::string_view::npos && target.find(':') == colon)
    target = target.substr(0, colon);
  return std::string(target);
}

bool IsIpLiteral(const std::string& host) {
  std::string ignored;
  return reactor::InetAddress::Parse(
             host.find(':') != std::string::npos ? "[" + host + "]:0" : host + ":0", &ignored)
      .has_value();
}

}  // namespace

std::unique_ptr<TlsChannel> TlsChannel::Open(int fd, const TlsOptions& opts, std::string_view host,
                                             Deadline deadline, std::string* error) {
  ERR_clear_error();
  SSL_CTX* ctx = reactor::NewClientSslCtx(opts.cacert, error);
  if (ctx == nullptr) return nullptr;
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) {
    *error = "TLS: " + OpenSslError();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  std::unique_ptr<TlsChannel> ch(new TlsChannel(fd, ctx, ssl));
  const std::string name = HostOnly(host);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (IsIpLiteral(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  }
  SSL_set_fd(ssl, fd);
  for (;;) {
    const int r = SSL_connect(ssl);
    if (r == 1) break;
    if (!ch->WaitFor(r, deadline, "TLS handshake", error)) {
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        *error = std::string("TLS: server certificate not trusted: ") +
                 X509_verify_cert_error_string(verify);
      }
      return nullptr;
    }
  }
  return ch;
}

TlsChannel::~TlsChannel() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

bool TlsChannel::WaitFor(int ret, Deadline deadline, const char* what, std::string* error) {
  short events = 0;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      events = POLLIN;
      break;
    case SSL_ERROR_WANT_WRITE:
      events = POLLOUT;
      break;
    case SSL_ERROR_SYSCALL:
      *error = std::string(what) + ": " + (errno != 0 ? std::strerror(errno) : OpenSslError());
      return false;
    default:
      *error = std::string(what) + ": " + OpenSslError();
      return false;
  }
  for (;;) {
    pollfd p{fd_, events, 0};
    const int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) return true;
    *error = std::string(what) + (n == 0 ? ": timed out" : ": poll failed");
    return false;
  }
}

long TlsChannel::Write(const char* data, size_t len, Deadline deadline, std::string* error) {
  for (;;) {
    ERR_clear_error();
    const int r = SSL_write(ssl_, data, static_cast<int>(len > INT_MAX ? INT_MAX : len));
    if (r > 0) return r;
    if (!WaitFor(r, deadline, "TLS send", error)) return -1;
  }
}

long TlsChannel::Read(char* data, size_t len, Deadline deadline, std::string* error) {
  for (;;) {
    ERR_clear_error();
    const int r = SSL_read(ssl_, data, static_cast<int>(len > INT_MAX ? INT_MAX : len));
    if (r > 0) return r;
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;  // EOF without close_notify
    if (e == SSL_ERROR_SSL &&
        ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ERR_clear_error();
      return 0;
    }
    if (!WaitFor(r, deadline, "TLS receive", error)) return -1;
  }
}

std::string TlsChannel::version() const {
  return SSL_get_version(ssl_);
}

}  // namespace httpkv::client
