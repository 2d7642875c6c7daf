// ClientConn: one keep-alive HTTP/1.1 connection of the load generator.
//
// It keeps up to `depth` requests in flight (the pipeline), remembering each one's
// operation and start time in a fixed ring, and matches responses to them in order.
// Hot path per read batch: one read(2) into a large buffer, one clock read, parse every
// complete response, then build all replacement requests into the output Buffer and
// write them with one send(2). Nothing is allocated once the buffers have grown.
//
// Modes (Plan::mode):
//   closed  - refill to `depth` after every batch of responses;
//   open    - request k of connection i is due at start + (k*C + i) / rate; it is sent
//             once due and the pipe has room (late ones go back-to-back), and its latency
//             counts from that intended time, not from when it was actually written;
//   preload - PUT each key of [lo, hi) once, `depth` at a time.
// Failures (refused connect, reset, malformed response) are counted, the connection is
// closed and re-opened after a short back-off; requests in flight are lost (preload
// re-sends them). A response without keep-alive closes and re-opens without an error.
//
// --cluster: the connection is one member of a ConnGroup (conn_group.h), connected to
// one owner (client_conn_cluster.cc); the group decides what it sends. A 421 or 503 answer
// makes it look the owner up again (Routes::Refresh, or 421's X-Primary), move there if the
// address changed, and send that request once more; the second answer counts.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bench/loadgen/key_chooser.h"
#include "bench/loadgen/request_mix.h"
#include "http/response_parser.h"
#include "reactor/buffer.h"
#include "reactor/event_loop.h"
#include "reactor/inet_address.h"

typedef struct ssl_st SSL;

namespace httpkv::bench {

class Worker;
class ConnGroup;

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
int64_t NowNs();  // steady_clock in nanoseconds

class ClientConn final : public reactor::IoHandler {
 public:
  ClientConn(Worker* worker, uint32_t index, uint64_t seed);
  ~ClientConn();
  ClientConn(const ClientConn&) = delete;
  ClientConn& operator=(const ClientConn&) = delete;

  void Connect();
  void HandleEvent(const reactor::PollEvent& ev) override;

  // --cluster: a member of `group`, connected to owner `owner`.
  void JoinGroup(ConnGroup* group, uint32_t owner) {
    group_ = group;
    owner_ = owner;
  }
  size_t in_flight() const { return count_; }
  // Queues one request (sent by Flush; kept while the connection is being opened).
  void Push(Op op, uint64_t key, int64_t start_ns, bool retried = false);
  // Sends queued requests if connected (a group member's share of a group Fill).
  void FlushPending() {
    if (state_ == State::kConnected && !out_.empty() && !want_write_) Flush();
  }

  // Preload: this connection PUTs keys [lo, hi).
  void SetPreloadRange(uint64_t lo, uint64_t hi) {
    next_key_ = lo;
    end_key_ = hi;
  }
  // Open loop: sends what is due at `now`; NextDue() is when the next one will be due
  // (kNever while the pipe is full or the connection is down: a response or the
  // connect will trigger sending).
  void SendDue(int64_t now) { Fill(now); }
  int64_t NextDue() const;

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHandshaking, kConnected };
  struct Pending {
    int64_t start_ns;
    uint64_t key;
    Op op;
    bool retried;  // --cluster: already sent again once after a stale answer
  };
  enum class Failure : uint8_t { kConnect, kIo, kParse };

  void OnConnectReady();
  void OnTcpConnected();  // starts TLS first when --tls
  void OnConnected();
  void HandleReadable();
  bool ParseResponses(reactor::Buffer& in, int64_t now);  // false if the connection closed
  void Complete(int status, int64_t now);
  void Fill(int64_t now);
  void PushRandom(int64_t start_ns);  // an op drawn from the mix on a drawn key
  bool Flush();                       // false if the connection failed
  // TLS (client_conn_tls.cc).
  void StartTls();
  void ContinueHandshake();
  ssize_t ReadTls(reactor::Buffer& buf, size_t min_space);  // like Buffer::ReadFromFd
  ssize_t SendTls(const char* data, size_t len);            // like send(2), -errno
  bool TlsPending() const;
  void CloseTls();
  // --cluster (client_conn_cluster.cc).
  const reactor::InetAddress& Address() const;
  bool NoteStale(int status, const http::Response& resp);  // true: head request re-sent
  // After stale answers: looks the owner up again, re-opens the connection if its address
  // changed or `reopen`, then queues the retries (before a connect can refill the group,
  // so that the group never holds more than its depth). False if it re-opened.
  bool Reroute(bool reopen);
  void RewindPreload();
  void SetInterest(uint32_t interest);
  void Fail(Failure kind);
  void Reopen(int delay_ms);  // RewindPreload, Close, Connect (after delay_ms)
  void Close();
  int64_t Intended(uint64_t k) const {
    return start_ns_ + static_cast<int64_t>(static_cast<double>(k) * step_ns_);
  }

  Worker* w_;
  reactor::EventLoop* loop_;
  uint32_t index_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  State state_ = State::kIdle;
  bool want_write_ = false;
  bool ever_connected_ = false;
  bool done_ = false;  // preload range finished
  int backoff_ms_ = 0;
  Rng rng_;
  reactor::Buffer in_;  // only a partial response carried over from the last read
  reactor::Buffer out_;
  http::ResponseParser parser_;
  std::vector<Pending> ring_;  // capacity: power of two >= depth
  size_t mask_ = 0;
  size_t head_ = 0;
  size_t count_ = 0;
  size_t depth_ = 1;
  uint64_t sent_ = 0;     // open loop: requests issued so far (schedule index k)
  int64_t start_ns_ = 0;  // open loop: intended time of request 0 of this connection
  double step_ns_ = 0;    // open loop: C / rate in ns
  uint64_t next_key_ = 0;
  uint64_t end_key_ = 0;
  ConnGroup* group_ = nullptr;
  uint32_t owner_ = 0;
  bool stale_ = false;
  std::string stale_primary_;   // a 421's X-Primary
  std::vector<Pending> retry_;  // requests to send once more after Reroute
};

}  // namespace httpkv::bench
