#include "reactor/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "reactor/tls_session.h"

namespace httpkv::reactor {

Connection::Connection(EventLoop* loop, int fd, ConnectionHandler* handler)
    : loop_(loop), fd_(fd), handler_(handler) {}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

int Connection::Start() {
  loop_->AssertInLoopThread();
  interest_ = kReadable;
  return loop_->poller().Add(fd_, interest_, this);
}

void Connection::HandleEvent(const PollEvent& ev) {
  if (closed_) return;
  if (tls_phase_ != TlsPhase::kNone) {
    if (handshaking()) return HandleTlsSetup();
    if (ev.readable && tls_write_wants_read_) {
      tls_write_wants_read_ = false;
      Flush();
      if (closed_) return;
    }
    if (ev.writable && tls_read_wants_write_) {
      tls_read_wants_write_ = false;
      HandleReadable();
      if (closed_) return;
    }
  }
  if (ev.writable) {
    Flush();
    if (closed_) return;
    ReleaseIdleStorage();
  }
  if (ev.readable || ev.error) HandleReadable();
}

// Switches to the loop's scratch buffers when our own are empty. Only one connection
// handles an event at a time on a loop, and SettleBuffers() hands the scratch back
// empty before this event ends, so sharing is safe.
void Connection::UseSharedBuffers() {
  if (input_.empty()) in_ = &loop_->scratch_input();
  if (output_.empty() && !output_held_) out_ = &loop_->scratch_output();
  if (output_held_) loop_->buffer_pool().Lend(&output_);  // held output accumulates here
}

// Moves whatever outlives this event into our own buffers and empties the scratch.
void Connection::SettleBuffers() {
  BufferPool& pool = loop_->buffer_pool();
  if (in_ != &input_) {
    if (!closed_ && !in_->empty()) {
      pool.Lend(&input_);
      input_.Append(in_->view());
    }
    in_->ConsumeAll();
    in_ = &input_;
  }
  if (out_ != &output_) {
    if (!closed_ && !out_->empty()) {
      pool.Lend(&output_);
      output_.Append(out_->view());
    }
    out_->ConsumeAll();
    out_ = &output_;
  }
  ReleaseIdleStorage();
}

// Empty own buffers go back to the loop's pool: an idle connection owns no storage.
void Connection::ReleaseIdleStorage() {
  if (input_.empty() && input_.capacity() != 0) loop_->buffer_pool().Return(&input_);
  if (output_.empty() && output_.capacity() != 0 && !output_held_) {
    loop_->buffer_pool().Return(&output_);
  }
}

void Connection::HandleReadable() {
  if (!(interest_ & kReadable)) return;  // paused for back-pressure or closing
  UseSharedBuffers();
  HandleReadableWith();
  SettleBuffers();
  if (!closed_) UpdateInterest();  // settled output may need writability
}

void Connection::HandleReadableWith() {
  bool got_data = false;
  if (!(tls_ != nullptr ? ReadTls(&got_data) : ReadPlain(&got_data))) return;
  if (got_data) {
    handler_->OnData(*this);
    if (closed_) return;
    stalled_ = output_full();
  }
  if (peer_closed_) {
    CloseAfterFlush();  // answer what was received, then close (maybe a half-close)
    return;
  }
  Flush();  // one write for every response this read produced
}

bool Connection::ReadPlain(bool* got_data) {
  for (;;) {
    ssize_t n = in_->ReadFromFd(fd_, kReadChunk);
    if (n > 0) {
      bytes_read_ += static_cast<uint64_t>(n);
      *got_data = true;
      if (in_->writable_bytes() > 0) return true;  // short read: drained for now
      continue;
    }
    if (n == 0) {
      peer_closed_ = true;
      return true;
    }
    if (n == -EAGAIN || n == -EWOULDBLOCK) return true;
    Close();  // ECONNRESET and friends
    return false;
  }
}

bool Connection::WriteOutput() {
  if (tls_ != nullptr) return WriteOutputTls();
  while (!out_->empty()) {
    ssize_t n = ::send(fd_, out_->peek(), out_->readable_bytes(), MSG_NOSIGNAL);
    ++send_calls_;
    if (n > 0) {
      out_->Consume(static_cast<size_t>(n));
      bytes_written_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    Close();  // EPIPE, ECONNRESET: the peer is gone
    return false;
  }
  return true;
}

void Connection::Flush() {
  loop_->AssertInLoopThread();
  if (closed_) return;
  for (;;) {
    if (!output_held_ && !WriteOutput()) return;
    // The handler stopped consuming input because output was full; now it is not.
    if (!stalled_ || output_full() || (close_after_flush_ && !peer_closed_)) break;
    stalled_ = false;
    handler_->OnData(*this);
    if (closed_) return;
    stalled_ = output_full();
    if (out_->empty()) break;
  }
  if (out_->empty() && close_after_flush_) {
    Close();
    return;
  }
  UpdateInterest();
}

void Connection::UpdateInterest() {
  if (closed_) return;
  uint32_t want = kNoInterest;
  if (!close_after_flush_ && !peer_closed_ && !output_full()) want |= kReadable;
  if (!out_->empty() && !output_held_) want |= kWritable;
  if (tls_read_wants_write_) want |= kWritable;
  if (tls_write_wants_read_) want |= kReadable;
  if (want == interest_) return;
  if (loop_->poller().Modify(fd_, want, this) != 0) {
    Close();
    return;
  }
  interest_ = want;
}

void Connection::CloseAfterFlush() {
  close_after_flush_ = true;
  Flush();
}

void Connection::Close() {
  loop_->AssertInLoopThread();
  if (closed_) return;
  closed_ = true;
  loop_->poller().Remove(fd_);  // close() below drops it from the poller anyway
  if (tls_ != nullptr) {
    if (tls_phase_ == TlsPhase::kOpen) tls_->Shutdown();  // close_notify, if it fits
    tls_.reset();
  }
  ::close(fd_);
  fd_ = -1;
  handler_->OnClose(*this);
}

}  // namespace httpkv::reactor
