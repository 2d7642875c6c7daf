// Connection: one accepted TCP socket with an input and an output Buffer.
//
// Read path: on readiness, read into `input` until a short read (level-triggered
// poller: anything left is reported again), then hand the bytes to the handler.
// Write path: Flush() writes immediately; only if the kernel send buffer is full does
// it subscribe to writability, and it unsubscribes once the output drained.
// Back-pressure: while unsent output exceeds kOutputHighWater the connection stops
// reading (drops read interest), so a peer that never reads cannot grow our memory;
// when the output drains, reading resumes and the handler gets OnData again for any
// requests already buffered.
// Memory: see UseSharedBuffers — an idle connection holds no buffers; storage it needs
// between events comes from (and goes back to) the loop's BufferPool.
// Close: on EOF (after answering what was received), error or reset. The handler's
// OnClose runs once; the owner destroys the object via EventLoop::Defer.
// TLS (EnableTls before Start): the same paths with SSL_read/SSL_write in place of
// read/send, one branch per read batch and per write; plain connections never touch
// OpenSSL. Before the handshake the first bytes are peeked: anything but a TLS record
// (0x16 0x03) is answered "400 Bad Request" in plain text and closed. The handshake is
// driven by readiness in either direction and never blocks the loop; the handler hears
// nothing until it completed (OnTlsEstablished), and handshaking() lets its deadlines
// treat a stalled handshake like a stalled request head. See reactor/tls_session.h.
// Thread affinity: the owning loop's thread only (Start, Flush and Close assert it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "reactor/buffer.h"
#include "reactor/event_loop.h"

namespace httpkv::reactor {

class Connection;
class TlsContext;
class TlsSession;

class ConnectionHandler {
 public:
  // New input arrived (or output drained after a pause): consume what you can and
  // append answers to output(). Stop consuming while output_full(). Do not Flush():
  // the connection writes once after OnData returns (one write per read batch).
  virtual void OnData(Connection& conn) = 0;
  // Called once when the connection closes; the handler owns and frees it (deferred).
  virtual void OnClose(Connection& conn) = 0;
  // TLS only: the handshake completed (before the first OnData).
  virtual void OnTlsEstablished(Connection&) {}

 protected:
  ~ConnectionHandler() = default;
};

class Connection final : public IoHandler {
 public:
  static constexpr size_t kOutputHighWater = 1 << 20;  // stop reading above this
  static constexpr size_t kReadChunk = 16 * 1024;      // free space offered to each read

  Connection(EventLoop* loop, int fd, ConnectionHandler* handler);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int Start();  // registers for reading; 0 or -errno
  // Before Start: speak TLS with `ctx` (the SSL keeps its own reference). 0 or -ENOMEM.
  int EnableTls(const TlsContext& ctx);
  bool tls() const { return tls_phase_ != TlsPhase::kNone; }
  // TLS: the handshake (or the plain-HTTP check before it) is still in progress.
  bool handshaking() const {
    return tls_phase_ == TlsPhase::kPeek || tls_phase_ == TlsPhase::kHandshake;
  }
  bool tls_established() const { return tls_phase_ == TlsPhase::kOpen; }
  bool tls_resumed() const { return tls_resumed_; }
  bool ktls_send() const { return ktls_send_; }
  bool plain_http_on_tls() const { return tls_phase_ == TlsPhase::kRejectedPlain; }

  // The buffers the handler works on. While a read is being handled they may be the
  // loop's shared scratch buffers (see below); the handler need not care.
  Buffer& input() { return *in_; }
  Buffer& output() { return *out_; }
  int fd() const { return fd_; }
  EventLoop* loop() const { return loop_; }
  bool closed() const { return closed_; }
  bool peer_closed() const { return peer_closed_; }
  // True while output is over the high-water mark: the handler should stop producing.
  bool output_full() const { return out_->readable_bytes() >= kOutputHighWater; }

  // Writes as much of `output` as the kernel takes now; waits for writability otherwise.
  // Needed only for output produced outside OnData (timers, posted tasks).
  void Flush();
  // While held, output accumulates but is not written (e.g. until an fsync covering the
  // writes it acknowledges has completed). Releasing flushes.
  void HoldOutput() { output_held_ = true; }
  void ReleaseOutput() {
    output_held_ = false;
    Flush();
  }
  bool output_held() const { return output_held_; }
  // For output produced outside OnData (a stream fed by timers or posted tasks): the
  // handler stopped because output_full(); call OnData again once it has drained.
  void ResumeOnDrain() { stalled_ = true; }
  // Drops unsent output (it must never reach the peer) and closes.
  void Abort() {
    out_->ConsumeAll();
    Close();
  }
  // Stop reading; close as soon as `output` has been written.
  void CloseAfterFlush();
  void Close();

  void* context() const { return context_; }
  void set_context(void* ctx) { context_ = ctx; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t send_calls() const { return send_calls_; }  // send(2) syscalls made

  void HandleEvent(const PollEvent& ev) override;

 private:
  enum class TlsPhase : unsigned char { kNone, kPeek, kHandshake, kOpen, kRejectedPlain };

  void HandleReadable();
  void HandleReadableWith();
  bool ReadPlain(bool* got_data);  // false if the connection closed
  bool WriteOutput();              // false if the connection closed
  // TLS (connection_tls.cc).
  void HandleTlsSetup();
  void RejectPlainHttp();
  bool ReadTls(bool* got_data);  // false if the connection closed
  bool WriteOutputTls();         // false if the connection closed
  void UpdateInterest();

  EventLoop* loop_;
  int fd_;
  ConnectionHandler* handler_;
  void UseSharedBuffers();
  void SettleBuffers();
  void ReleaseIdleStorage();

  // Own buffers hold only what outlives one event: a partial request, or output the
  // kernel did not take. Complete exchanges run through the loop's shared scratch
  // buffers, so an idle connection owns no buffer memory and the steady state does not
  // allocate. in_/out_ point at whichever pair is active.
  Buffer input_;
  Buffer output_;
  Buffer* in_ = &input_;
  Buffer* out_ = &output_;
  void* context_ = nullptr;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
  uint64_t send_calls_ = 0;
  std::unique_ptr<TlsSession> tls_;
  uint32_t interest_ = kNoInterest;
  TlsPhase tls_phase_ = TlsPhase::kNone;
  bool tls_read_wants_write_ = false;  // SSL_read/handshake waits for writability
  bool tls_write_wants_read_ = false;  // SSL_write waits for readability
  bool tls_resumed_ = false;
  bool ktls_send_ = false;
  bool closed_ = false;
  bool peer_closed_ = false;
  bool close_after_flush_ = false;
  bool stalled_ = false;
  bool output_held_ = false;  // handler left input unprocessed because output was full
};

}  // namespace httpkv::reactor
