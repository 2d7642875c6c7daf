#include "bench/loadgen/client_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>

#include "bench/loadgen/conn_group.h"
#include "bench/loadgen/feed_watchers.h"
#include "bench/loadgen/worker.h"

namespace httpkv::bench {
namespace {

constexpr size_t kReadChunk = 64 * 1024;   // large reads: many pipelined responses per call
constexpr size_t kCarryChunk = 16 * 1024;  // reads that extend a carried partial response
constexpr int kMaxBackoffMs = 500;

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ClientConn::ClientConn(Worker* worker, uint32_t index, uint64_t seed)
    : w_(worker), loop_(&worker->loop()), index_(index), rng_(seed) {
  const Plan& plan = w_->shared().plan;
  depth_ = static_cast<size_t>(plan.depth);
  ring_.resize(std::bit_ceil(depth_));
  mask_ = ring_.size() - 1;
  if (plan.mode == Mode::kOpen) {
    // Connection i takes slots i, i+C, i+2C ... of the run-wide uniform schedule.
    const double conns = w_->shared().opt->connections;
    start_ns_ = plan.start_ns + static_cast<int64_t>(index_ * plan.period_ns);
    step_ns_ = conns * plan.period_ns;
  }
}

ClientConn::~ClientConn() {
  Close();
}

void ClientConn::Connect() {
  const reactor::InetAddress& addr = Address();
  fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Fail(Failure::kConnect);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, addr.sockaddr_ptr(), addr.length()) == 0) {
    if (loop_->poller().Add(fd_, reactor::kReadable, this) != 0) return Fail(Failure::kConnect);
    return OnTcpConnected();
  }
  if (errno != EINPROGRESS) return Fail(Failure::kConnect);
  state_ = State::kConnecting;
  if (loop_->poller().Add(fd_, reactor::kWritable, this) != 0) Fail(Failure::kConnect);
}

void ClientConn::OnConnectReady() {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    return Fail(Failure::kConnect);
  }
  SetInterest(reactor::kReadable);
  OnTcpConnected();
}

void ClientConn::OnTcpConnected() {
  if (w_->shared().opt->tls_ctx != nullptr) return StartTls();
  OnConnected();
}

void ClientConn::OnConnected() {
  state_ = State::kConnected;
  Stats& st = w_->stats();
  ++st.connects;
  if (ever_connected_) ++st.reconnects;
  ever_connected_ = true;
  Fill(NowNs());
}

void ClientConn::HandleEvent(const reactor::PollEvent& ev) {
  if (state_ == State::kConnecting) return OnConnectReady();
  if (state_ == State::kHandshaking) return ContinueHandshake();
  if (state_ != State::kConnected) return;
  if (ev.writable && want_write_ && !Flush()) return;
  if (ev.readable || ev.error) HandleReadable();
}

void ClientConn::HandleReadable() {
  // Read into the worker's scratch buffer and parse there; only the bytes of a response
  // split across reads move to this connection's own buffer. So an idle or in-sync
  // connection holds no read buffer (10k connections must not cost 10k x 64 KiB), and
  // the common case copies nothing.
  reactor::Buffer& buf = in_.empty() ? w_->scratch() : in_;
  const size_t chunk = &buf == &in_ ? kCarryChunk : kReadChunk;
  const ssize_t n = ssl_ != nullptr ? ReadTls(buf, chunk) : buf.ReadFromFd(fd_, chunk);
  if (n > 0) {
    const int64_t now = NowNs();  // one clock read stamps the whole batch
    const bool alive = ParseResponses(buf, now);
    if (&buf != &in_) {
      if (alive && !buf.empty()) in_.Append(buf.view());  // parser keeps offsets only
      buf.ConsumeAll();
    }
    if (!alive) return;
    Fill(w_->shared().plan.mode == Mode::kOpen ? now : NowNs());
    // Records already inside OpenSSL are invisible to the poller: read them now.
    if (ssl_ != nullptr && state_ == State::kConnected && TlsPending()) HandleReadable();
    return;
  }
  if (n == -EAGAIN || n == -EINTR) return;
  if (n == 0 && count_ > 0 && !in_.empty()) {  // a body delimited by the close
    http::Response& resp = w_->response();
    const http::ParseResult r = parser_.ParseAtEof(in_.readable_span(), false, &resp);
    if (r.kind == http::ParseResult::kComplete && resp.status >= 200) {
      in_.Consume(r.consumed);
      Complete(resp.status, NowNs());
    }
  }
  if (n == 0 && count_ == 0) return Reopen(0);  // idle keep-alive closed by the server
  Fail(Failure::kIo);
}

bool ClientConn::ParseResponses(reactor::Buffer& in, int64_t now) {
  http::Response& resp = w_->response();
  while (!in.empty()) {
    if (count_ == 0) {  // bytes nobody asked for: framing is lost
      Fail(Failure::kParse);
      return false;
    }
    const http::ParseResult r = parser_.Parse(in.readable_span(), false, &resp);
    if (r.kind == http::ParseResult::kNeedMore) break;
    if (r.kind == http::ParseResult::kError) {
      Fail(Failure::kParse);
      return false;
    }
    const int status = resp.status;
    const bool keep_alive = resp.keep_alive;
    const bool retry =
        group_ != nullptr && (status == 421 || status == 503) && NoteStale(status, resp);
    if (AckTable* acks = w_->shared().acks; acks != nullptr && status / 100 == 2) {
      if (std::string_view seq = resp.Find("X-Seq"); !seq.empty()) {  // writes carry their SEQ
        uint64_t v = 0;
        std::from_chars(seq.data(), seq.data() + seq.size(), v);
        acks->Stamp(v, now);
      }
    }
    in.Consume(r.consumed);
    parser_.Reset();
    if (status < 200) continue;  // interim 1xx: the real answer follows
    if (!retry) Complete(status, now);
    if (!keep_alive || w_->shared().opt->new_connection) {
      if (stale_) return Reroute(true);  // re-opens, then the retries go out there
      Reopen(0);
      return false;
    }
  }
  return !stale_ || Reroute(false);
}

void ClientConn::Complete(int status, int64_t now) {
  const Pending& p = ring_[head_];
  head_ = (head_ + 1) & mask_;
  --count_;
  backoff_ms_ = 0;
  OpStats& s = w_->stats().ops[static_cast<size_t>(p.op)];
  ++s.requests;
  if (status / 100 != 2) ++s.non_2xx;
  s.latency.Record(now > p.start_ns ? static_cast<uint64_t>(now - p.start_ns) : 0);
  if (group_ != nullptr) return group_->MaybeDone();
  if (!done_ && count_ == 0 && w_->shared().plan.mode == Mode::kPreload && next_key_ >= end_key_) {
    done_ = true;
    w_->ConnDone();
  }
}

void ClientConn::Fill(int64_t now) {
  if (group_ != nullptr) return group_->Fill(now);
  if (state_ != State::kConnected) return;
  const Shared& sh = w_->shared();
  switch (sh.plan.mode) {
    case Mode::kClosed:
      while (count_ < depth_) PushRandom(now);
      break;
    case Mode::kOpen:
      while (count_ < depth_ && Intended(sent_) <= now) PushRandom(Intended(sent_++));
      break;
    case Mode::kPreload:
      while (count_ < depth_ && next_key_ < end_key_) Push(Op::kPut, next_key_++, now);
      if (!done_ && count_ == 0) {  // empty range
        done_ = true;
        w_->ConnDone();
      }
      break;
  }
  if (!out_.empty() && !want_write_ && !Flush()) return;
  // Open loop: the pacer may have skipped us while the pipe was full.
  if (sh.plan.mode == Mode::kOpen) w_->WakeAt(NextDue());
}

void ClientConn::PushRandom(int64_t start_ns) {
  const Shared& sh = w_->shared();
  const Op op = sh.mix->Pick(rng_);
  // A fixed --path GET names no key: skip the (comparatively costly) Zipf draw.
  const bool keyless = op == Op::kGet && !sh.opt->path.empty();
  Push(op, keyless ? 0 : sh.keys->Next(rng_), start_ns);
}

void ClientConn::Push(Op op, uint64_t key, int64_t start_ns, bool retried) {
  ring_[(head_ + count_) & mask_] = Pending{start_ns, key, op, retried};
  ++count_;
  w_->shared().builder->Append(out_, op, key);
}

int64_t ClientConn::NextDue() const {
  if (state_ != State::kConnected || count_ >= depth_) return kNever;
  return Intended(sent_);
}

bool ClientConn::Flush() {
  while (!out_.empty()) {
    const ssize_t n = ssl_ != nullptr
                          ? SendTls(out_.peek(), out_.readable_bytes())
                          : ::send(fd_, out_.peek(), out_.readable_bytes(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.Consume(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!want_write_) SetInterest(reactor::kReadable | reactor::kWritable);
      want_write_ = true;
      return true;
    } else {
      Fail(Failure::kIo);
      return false;
    }
  }
  if (want_write_) SetInterest(reactor::kReadable);
  want_write_ = false;
  return true;
}

void ClientConn::SetInterest(uint32_t interest) {
  loop_->poller().Modify(fd_, interest, this);
}

void ClientConn::Fail(Failure kind) {
  Stats& st = w_->stats();
  if (kind == Failure::kConnect) ++st.connect_errors;
  if (kind == Failure::kConnect && group_ != nullptr) w_->RefreshOwner(owner_, {});
  if (kind == Failure::kIo) ++st.io_errors;
  if (kind == Failure::kParse) ++st.parse_errors;
  if (count_ > 0) ++st.ops[static_cast<size_t>(ring_[head_].op)].errors;
  // Back off on repeated failures so a dead target does not make us spin.
  backoff_ms_ = backoff_ms_ == 0 ? 1 : std::min(backoff_ms_ * 2, kMaxBackoffMs);
  Reopen(backoff_ms_);
}

void ClientConn::Reopen(int delay_ms) {
  RewindPreload();
  Close();
  if (delay_ms == 0) return Connect();
  loop_->RunAfter(std::chrono::milliseconds(delay_ms), [this] {
    if (!w_->stopping()) Connect();
  });
}

void ClientConn::RewindPreload() {
  // Preload must not lose keys: rewind to the oldest unanswered one.
  if (w_->shared().plan.mode == Mode::kPreload && count_ > 0) {
    if (group_ != nullptr) group_->Rewind(ring_[head_].key);
    next_key_ = ring_[head_].key;
  }
}

void ClientConn::Close() {
  CloseTls();
  if (fd_ >= 0) {
    if (state_ != State::kIdle) loop_->poller().Remove(fd_);
    ::close(fd_);
  }
  fd_ = -1;
  state_ = State::kIdle;
  want_write_ = false;
  in_.ConsumeAll();
  out_.ConsumeAll();
  retry_.clear();  // stale answers not yet sent again are lost with the connection
  stale_ = false;
  parser_.Reset();
  head_ = count_ = 0;
}

}  // namespace httpkv::bench
