// Pacer: wakes a worker's event loop at the next intended send time of the open loop.
//
// The reactor's timers have millisecond resolution, far too coarse for schedules of
// tens of thousands of requests per second, so the pacer arms a timerfd with an
// absolute CLOCK_MONOTONIC deadline (the clock behind steady_clock) in nanoseconds.
// On expiry the worker offers every connection the chance to send what is due and
// re-arms for the earliest next due time. Connections that get room again after a
// response call WakeAt(); only an earlier deadline costs a timerfd_settime call.
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>

#include "reactor/event_loop.h"

namespace httpkv::bench {

class Pacer final : public reactor::IoHandler {
 public:
  // on_tick(now_ns) sends due requests; it may call WakeAt() for each connection.
  Pacer(reactor::EventLoop* loop, std::function<void(int64_t)> on_tick);
  ~Pacer();
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  int Start();  // 0 or errno
  void WakeAt(int64_t due_ns) {
    if (due_ns < next_) {
      next_ = due_ns;
      if (!in_tick_) Arm();
    }
  }
  void HandleEvent(const reactor::PollEvent& ev) override;

 private:
  void Arm();

  reactor::EventLoop* loop_;
  std::function<void(int64_t)> on_tick_;
  int fd_ = -1;
  int64_t next_;  // armed deadline (kNever-like max when idle)
  bool in_tick_ = false;
};

// The intended send time of request k of connection i (of C) at `rate` requests/s,
// starting at start_ns: start + (k*C + i) / rate. Exposed for tests.
int64_t IntendedSendNs(int64_t start_ns, double rate, uint32_t conns, uint32_t i, uint64_t k);

}  // namespace httpkv::bench
