// TlsSession: the server side of one TLS connection over a non-blocking socket (an SSL
// bound to the fd with SSL_set_fd, so OpenSSL can hand sends to kernel TLS).
//
// Every call does what the socket allows now and says what it waits for: kWantRead /
// kWantWrite mean "call again when the socket is readable / writable" (either can come
// from any call: a read may have to send, a write may have to receive). Connection turns
// those into poller interest. Loop-thread only, like the Connection that owns it.
#pragma once

#include <sys/types.h>

#include <cstddef>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace httpkv::reactor {

enum class TlsIo : unsigned char {
  kDone,       // handshake finished, or bytes were moved (see the count)
  kWantRead,   // retry when readable
  kWantWrite,  // retry when writable
  kClosed,     // the peer closed (close_notify or EOF)
  kFailed,     // protocol error or socket error: close the connection
};

class TlsSession {
 public:
  // nullptr-safe construction: ok() is false if OpenSSL could not allocate.
  TlsSession(SSL_CTX* ctx, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool ok() const { return ssl_ != nullptr; }
  TlsIo Handshake();
  // Decrypts into [dst, dst+len); *n is the bytes produced when kDone.
  TlsIo Read(char* dst, size_t len, size_t* n);
  // Encrypts and sends up to len bytes; *n is the bytes taken when kDone.
  TlsIo Write(const char* src, size_t len, size_t* n);
  // Decrypted or raw record bytes already inside OpenSSL (not visible to the poller).
  bool HasPending() const;
  // After the handshake: sends go through kernel TLS.
  bool ktls_send() const;
  bool resumed() const;
  // One non-blocking attempt to send close_notify.
  void Shutdown();

 private:
  TlsIo Classify(int ret);
  SSL* ssl_;
};

}  // namespace httpkv::reactor
