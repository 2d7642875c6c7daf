// Connection's TLS half: the plain-HTTP check, the non-blocking handshake, and the
// SSL_read / SSL_write loops that stand in for read(2) / send(2) (connection.h).
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <string_view>

#include "reactor/connection.h"
#include "reactor/tls_context.h"
#include "reactor/tls_session.h"

namespace httpkv::reactor {

namespace {

constexpr unsigned char kTlsHandshakeRecord = 0x16;  // ContentType handshake
constexpr unsigned char kTlsMajorVersion = 0x03;     // ProtocolVersion.major, SSL 3.0 on

constexpr std::string_view kPlainHttpAnswer =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
    "Connection: close\r\n\r\nthis port speaks HTTPS\n";

// OpenSSL writes to the socket with write(2), not send(MSG_NOSIGNAL): a peer that reset
// would raise SIGPIPE. Blocked on this (reactor) thread, the signal stays pending and the
// write fails with EPIPE instead, whatever the process's disposition is.
void BlockSigpipeOnThisThread() {
  static thread_local bool blocked = false;
  if (blocked) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  blocked = true;
}

}  // namespace

int Connection::EnableTls(const TlsContext& ctx) {
  BlockSigpipeOnThisThread();
  auto session = std::make_unique<TlsSession>(ctx.get(), fd_);
  if (!session->ok()) return -ENOMEM;
  tls_ = std::move(session);
  tls_phase_ = TlsPhase::kPeek;
  return 0;
}

void Connection::HandleTlsSetup() {
  if (tls_phase_ == TlsPhase::kPeek) {
    unsigned char head[2];
    const ssize_t n = ::recv(fd_, head, sizeof head, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      Close();  // EOF or reset before a single byte
      return;
    }
    if (head[0] != kTlsHandshakeRecord || (n == 2 && head[1] != kTlsMajorVersion)) {
      RejectPlainHttp();
      return;
    }
    tls_phase_ = TlsPhase::kHandshake;
  }
  uint32_t want = kReadable;
  switch (tls_->Handshake()) {
    case TlsIo::kDone:
      tls_phase_ = TlsPhase::kOpen;
      tls_resumed_ = tls_->resumed();
      ktls_send_ = tls_->ktls_send();
      handler_->OnTlsEstablished(*this);
      if (closed_) return;
      UpdateInterest();
      if (closed_) return;
      if (tls_->HasPending()) HandleReadable();  // a request that came with the Finished
      return;
    case TlsIo::kWantRead:
      break;
    case TlsIo::kWantWrite:
      want = kWritable;
      break;
    case TlsIo::kClosed:
    case TlsIo::kFailed:
      Close();
      return;
  }
  if (want != interest_) {
    if (loop_->poller().Modify(fd_, want, this) != 0) {
      Close();
      return;
    }
    interest_ = want;
  }
}

// Not a TLS record: most likely plain HTTP sent to the HTTPS port. Read what came (so the
// close does not turn into a reset that destroys the answer), answer 400, close.
void Connection::RejectPlainHttp() {
  tls_.reset();
  tls_phase_ = TlsPhase::kRejectedPlain;
  char sink[4096];
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
    if (n <= 0) break;
    bytes_read_ += static_cast<uint64_t>(n);
  }
  out_->Append(kPlainHttpAnswer);
  CloseAfterFlush();
}

bool Connection::ReadTls(bool* got_data) {
  for (;;) {
    in_->EnsureWritable(kReadChunk);
    size_t n = 0;
    switch (tls_->Read(in_->begin_write(), in_->writable_bytes(), &n)) {
      case TlsIo::kDone:
        in_->Commit(n);
        bytes_read_ += n;
        *got_data = true;
        // Short read with nothing left inside OpenSSL: the socket is drained for now
        // (level-triggered: a record still arriving is reported again).
        if (in_->writable_bytes() > 0 && !tls_->HasPending()) return true;
        continue;
      case TlsIo::kWantRead:
        return true;
      case TlsIo::kWantWrite:
        tls_read_wants_write_ = true;
        return true;
      case TlsIo::kClosed:
        peer_closed_ = true;
        return true;
      case TlsIo::kFailed:
        Close();
        return false;
    }
  }
}

bool Connection::WriteOutputTls() {
  while (!out_->empty()) {
    size_t n = 0;
    ++send_calls_;
    switch (tls_->Write(out_->peek(), out_->readable_bytes(), &n)) {
      case TlsIo::kDone:
        out_->Consume(n);
        bytes_written_ += n;
        continue;
      case TlsIo::kWantWrite:
        return true;  // UpdateInterest asks for writability: output is pending
      case TlsIo::kWantRead:
        tls_write_wants_read_ = true;
        return true;
      case TlsIo::kClosed:
      case TlsIo::kFailed:
        Close();
        return false;
    }
  }
  return true;
}

}  // namespace httpkv::reactor
