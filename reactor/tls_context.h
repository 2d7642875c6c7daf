// TlsContext: a reference-counted handle to a server SSL_CTX (OpenSSL 3) built from a PEM
// certificate chain and private key.
//
// Policy (fixed here, not configurable): TLS 1.2 and 1.3 only; ALPN "http/1.1" (a client
// that offers ALPN without http/1.1 gets the no_application_protocol alert, RFC 7301
// 3.2; a client that offers no ALPN is served HTTP/1.1); session resumption through
// TLS 1.3 tickets and the TLS 1.2 session cache; kernel TLS for sends where the kernel
// offers it (SSL_OP_ENABLE_KTLS; OpenSSL falls back to user-space records otherwise).
//
// Reload (SIGHUP): a new TlsContext is built on the main thread and handed to every
// reactor thread, which swaps its own copy. A connection keeps the SSL_CTX it was
// accepted with (its SSL holds a reference), so nothing is shared on the request path
// and no context is freed while in use. Copying a TlsContext is SSL_CTX_up_ref.
#pragma once

#include <string>
#include <string_view>

typedef struct ssl_ctx_st SSL_CTX;

namespace httpkv::reactor {

class TlsContext {
 public:
  TlsContext() = default;
  // Builds a server context from PEM files. On failure returns an empty context and
  // sets *error to one line naming the file and OpenSSL's reason. ktls false: never hand
  // records to the kernel (for comparing; --tls-ktls off).
  static TlsContext LoadServer(const std::string& cert_file, const std::string& key_file,
                               std::string* error, bool ktls = true);

  TlsContext(const TlsContext& other);
  TlsContext& operator=(const TlsContext& other);
  TlsContext(TlsContext&& other) noexcept;
  TlsContext& operator=(TlsContext&& other) noexcept;
  ~TlsContext();

  explicit operator bool() const { return ctx_ != nullptr; }
  SSL_CTX* get() const { return ctx_; }
  // The certificate's subject and serial, for the log line after a (re)load.
  const std::string& description() const { return description_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_ = nullptr;
  std::string description_;
};

// Whether the running kernel offers the "tls" upper-layer protocol that kTLS needs
// (Linux: /proc/sys/net/ipv4/tcp_available_ulp lists "tls" once the module is loaded).
bool KernelOffersKtls();

// The first OpenSSL error queued on this thread as text (and clears the queue); `if_none`
// when nothing is queued (e.g. the peer closed mid-handshake).
std::string TakeOpenSslError(std::string_view if_none = "unknown OpenSSL error");

// The client side of the same policy, shared by `httpkv` and `httpkv-bench`: TLS 1.2 and
// 1.3, ALPN http/1.1, the peer verified against `cacert` (PEM; empty: the system store),
// partial writes. nullptr with a one-line *error naming the CA file.
SSL_CTX* NewClientSslCtx(const std::string& cacert, std::string* error);

}  // namespace httpkv::reactor
