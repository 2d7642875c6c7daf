// Test support for HTTPS: a self-signed certificate made with the openssl CLI, a blocking
// TLS client socket for raw cases, and TlsRelay, which lets the plain-socket suites
// (RawClient, the conformance cases) run over TLS: it accepts plain TCP on a loopback
// port and forwards each connection's bytes over its own TLS connection to the server,
// as they come (a byte sent alone travels as a record alone).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httpkv::tls_test {

// `openssl req -x509` with an EC P-256 key, CN and SAN localhost / 127.0.0.1, one day.
// Writes DIR/NAME.crt and DIR/NAME.key; false if the openssl command failed.
bool MakeCertificate(const std::string& dir, const std::string& name, const std::string& cn,
                     std::string* cert, std::string* key);

// A certificate made in `dir` at construction (ok false if openssl failed).
struct TestCertificate {
  explicit TestCertificate(const std::string& dir, const std::string& name = "server",
                           const std::string& cn = "localhost")
      : ok(MakeCertificate(dir, name, cn, &cert, &key)) {}
  std::string cert, key;
  bool ok;
};

// The serial number of a certificate as hex.
std::string SerialOf(X509* cert);

// A TLS client context that trusts `cacert` (TLS 1.2-1.3 unless changed by the caller).
SSL_CTX* NewClientContext(const std::string& cacert);

// One blocking TLS connection to 127.0.0.1:port (or a failed one: ok() false, error()
// tells why, with OpenSSL's reason). Receive timeout as a safety net.
class TlsSocket {
 public:
  TlsSocket(SSL_CTX* ctx, uint16_t port, SSL_SESSION* resume = nullptr);
  ~TlsSocket();
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  unsigned long error_code() const { return error_code_; }
  SSL* ssl() const { return ssl_; }
  void Send(std::string_view bytes);
  // Reads until `n` bytes of the stream, EOF or the timeout; returns what came.
  std::string ReadAtLeast(size_t n);
  // Reads until the peer closes (or the timeout); returns everything.
  std::string ReadToEof();

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
  std::string error_;
  unsigned long error_code_ = 0;
};

class TlsRelay {
 public:
  TlsRelay(uint16_t server_port, const std::string& cacert);
  ~TlsRelay();
  uint16_t port() const { return port_; }

 private:
  void AcceptLoop();
  void Relay(int plain_fd);

  uint16_t server_port_;
  SSL_CTX* ctx_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> relays_;
};

}  // namespace httpkv::tls_test
