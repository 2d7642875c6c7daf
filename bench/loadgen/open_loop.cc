#include "bench/loadgen/open_loop.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "bench/loadgen/client_conn.h"

namespace httpkv::bench {

Pacer::Pacer(reactor::EventLoop* loop, std::function<void(int64_t)> on_tick)
    : loop_(loop), on_tick_(std::move(on_tick)), next_(kNever) {}

Pacer::~Pacer() {
  if (fd_ >= 0) {
    loop_->poller().Remove(fd_);
    ::close(fd_);
  }
}

int Pacer::Start() {
  fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) return errno;
  return loop_->poller().Add(fd_, reactor::kReadable, this);
}

void Pacer::Arm() {
  itimerspec spec{};
  if (next_ != kNever) {
    // A zero it_value disarms, so a (theoretical) deadline at 0 becomes 1 ns.
    const int64_t t = next_ > 0 ? next_ : 1;
    spec.it_value.tv_sec = t / 1000000000;
    spec.it_value.tv_nsec = t % 1000000000;
  }
  ::timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Pacer::HandleEvent(const reactor::PollEvent&) {
  uint64_t expirations;
  if (::read(fd_, &expirations, sizeof expirations) < 0 && errno == EAGAIN) return;
  // Collect every connection's next deadline during the tick, then arm once.
  in_tick_ = true;
  next_ = kNever;
  on_tick_(NowNs());
  in_tick_ = false;
  Arm();
}

int64_t IntendedSendNs(int64_t start_ns, double rate, uint32_t conns, uint32_t i, uint64_t k) {
  const double period = 1e9 / rate;
  return start_ns + static_cast<int64_t>(i * period) +
         static_cast<int64_t>(static_cast<double>(k) * conns * period);
}

}  // namespace httpkv::bench
