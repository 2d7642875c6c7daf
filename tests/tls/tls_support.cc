#include "tests/tls/tls_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace httpkv::tls_test {

namespace {

int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{10, 0};  // safety net against a hung server, not synchronisation
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

bool MakeCertificate(const std::string& dir, const std::string& name, const std::string& cn,
                     std::string* cert, std::string* key) {
  *cert = dir + "/" + name + ".crt";
  *key = dir + "/" + name + ".key";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + cn +
      " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 1 -keyout " + *key + " -out " +
      *cert + " 2>/dev/null";
  return std::system(cmd.c_str()) == 0;
}

std::string SerialOf(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

SSL_CTX* NewClientContext(const std::string& cacert) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_load_verify_locations(ctx, cacert.c_str(), nullptr);
  return ctx;
}

TlsSocket::TlsSocket(SSL_CTX* ctx, uint16_t port, SSL_SESSION* resume) {
  ::signal(SIGPIPE, SIG_IGN);  // SSL writes to a socket the server closed (after an alert)
  fd_ = ConnectLoopback(port);
  if (fd_ < 0) {
    error_ = "connect failed";
    return;
  }
  ssl_ = SSL_new(ctx);
  SSL_set_fd(ssl_, fd_);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  if (resume != nullptr) SSL_set_session(ssl_, resume);
  ERR_clear_error();
  if (SSL_connect(ssl_) == 1) {
    ok_ = true;
    return;
  }
  error_code_ = ERR_peek_error();
  char buf[256];
  ERR_error_string_n(error_code_, buf, sizeof buf);
  error_ = buf;
  ERR_clear_error();
}

TlsSocket::~TlsSocket() {
  // close_notify first: an SSL freed without it marks its session not resumable.
  if (ok_) SSL_shutdown(ssl_);
  ERR_clear_error();
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
}

void TlsSocket::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

std::string TlsSocket::ReadAtLeast(size_t n) {
  std::string out;
  char buf[16384];
  while (out.size() < n) {
    const int r = SSL_read(ssl_, buf, sizeof buf);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ERR_clear_error();
  return out;
}

std::string TlsSocket::ReadToEof() {
  return ReadAtLeast(static_cast<size_t>(-1));
}

TlsRelay::TlsRelay(uint16_t server_port, const std::string& cacert)
    : server_port_(server_port), ctx_(NewClientContext(cacert)) {
  // A blocking SSL_read that consumed a non-data record (a TLS 1.3 session ticket) must
  // return instead of waiting for data, or the relay would stop forwarding the request.
  SSL_CTX_clear_mode(ctx_, SSL_MODE_AUTO_RETRY);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) return;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return;
  }
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TlsRelay::~TlsRelay() {
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : relays_) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : stop_pipe_) {
    if (fd >= 0) ::close(fd);
  }
  SSL_CTX_free(ctx_);
}

void TlsRelay::AcceptLoop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents != 0) return;
    const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    const int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    relays_.emplace_back([this, c] { Relay(c); });
  }
}

// Plain client <-> TLS server, until both directions ended or the relay stops. A half
// close from the client becomes close_notify (the server's "peer closed"), the server's
// close becomes a half close towards the client.
void TlsRelay::Relay(int plain_fd) {
  TlsSocket up(ctx_, server_port_);
  bool client_open = true, server_open = up.ok();
  if (!up.ok()) ::shutdown(plain_fd, SHUT_WR);
  char buf[16384];
  while (client_open || server_open) {
    if (server_open && SSL_pending(up.ssl()) == 0) {
      pollfd p[3] = {{client_open ? plain_fd : -1, POLLIN, 0},
                     {SSL_get_fd(up.ssl()), POLLIN, 0},
                     {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 3, -1) < 0) continue;
      if (p[2].revents != 0) break;
      if (p[0].revents != 0) {
        const ssize_t n = ::recv(plain_fd, buf, sizeof buf, 0);
        if (n > 0) {
          up.Send(std::string_view(buf, static_cast<size_t>(n)));
        } else {
          client_open = false;
          SSL_shutdown(up.ssl());  // close_notify: the server sees the client's EOF
        }
      }
      if (p[1].revents == 0) continue;
    } else if (!server_open) {
      // Server gone: wait for the client to finish.
      pollfd p[2] = {{plain_fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) continue;
      if (p[1].revents != 0) break;
      if (::recv(plain_fd, buf, sizeof buf, 0) <= 0) client_open = false;
      continue;
    }
    const int n = SSL_read(up.ssl(), buf, sizeof buf);
    if (n > 0) {
      (void)!::send(plain_fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    } else if (SSL_get_error(up.ssl(), n) == SSL_ERROR_WANT_READ) {
      continue;  // a session ticket or another non-data record
    } else {
      ERR_clear_error();
      server_open = false;
      ::shutdown(plain_fd, SHUT_WR);
    }
  }
  ::close(plain_fd);
}

}  // namespace httpkv::tls_test
