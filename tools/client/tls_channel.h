// TlsChannel: the client side of TLS over HttpClient's non-blocking socket. Each call
// waits with poll() up to a deadline, so a stalled server cannot hang the client.
//
// Verification: the server certificate must chain to --cacert FILE (or, without it, to
// the system store) and match the host of --target (a DNS name or an IP address, RFC
// 6125). ALPN offers http/1.1; TLS 1.2 and 1.3 only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace httpkv::client {

struct TlsOptions {
  bool enabled = false;
  std::string cacert;  // PEM file of trusted certificates; empty: the system store
};

class TlsChannel {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // Handshakes over `fd` (connected, non-blocking), verifying the certificate for
  // `host` ("NAME[:PORT]"). nullptr with a one-line *error.
  static std::unique_ptr<TlsChannel> Open(int fd, const TlsOptions& opts, std::string_view host,
                                          Deadline deadline, std::string* error);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  // Like send/recv with a deadline: bytes moved, 0 at the peer's close (Read), -1 with
  // *error on failure or timeout.
  long Write(const char* data, size_t len, Deadline deadline, std::string* error);
  long Read(char* data, size_t len, Deadline deadline, std::string* error);
  // The negotiated protocol version, e.g. "TLSv1.3".
  std::string version() const;
  SSL* ssl() const { return ssl_; }

 private:
  TlsChannel(int fd, SSL_CTX* ctx, SSL* ssl) : fd_(fd), ctx_(ctx), ssl_(ssl) {}
  // After an SSL call returned ret <= 0: waits for what it wants; false on error/timeout.
  bool WaitFor(int ret, Deadline deadline, const char* what, std::string* error);

  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
};

}  // namespace httpkv::client
