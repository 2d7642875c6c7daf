#include "reactor/event_loop.h"

#include <fcntl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <cerrno>
#include <cstring>

namespace httpkv::reactor {

// Drains the eventfd so the level-triggered poller stops reporting it.
class EventLoop::Waker final : public IoHandler {
 public:
  explicit Waker(EventLoop* loop) : loop_(loop) {}
  void HandleEvent(const PollEvent&) override {
    uint64_t v[16];
    while (::read(loop_->wake_fd_, v, sizeof v) > 0 || errno == EINTR) {
      // drain (a pipe may hold many wake-ups; an eventfd reads once)
    }
  }

 private:
  EventLoop* loop_;
};

namespace {

// Wake-up channel: an eventfd on Linux; a non-blocking pipe elsewhere (kqueue systems).
// Returns the read end; *write_fd gets the end Post()/Quit() write to.
int OpenWakeChannel(int* write_fd) {
#ifdef __linux__
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  *write_fd = fd;
  return fd;
#else
  int p[2];
  if (::pipe(p) != 0) return -1;
  for (int fd : p) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  *write_fd = p[1];
  return p[0];
#endif
}

}  // namespace

EventLoop::EventLoop(PollerFactory new_poller) : now_(Clock::now()), events_(256) {
  SyncWallClock();
  if (int err = new_poller(&poller_); err != 0) {
    Panic("cannot create the event loop's poller: %s", std::strerror(-err));
  }
  wake_fd_ = OpenWakeChannel(&wake_write_fd_);
  if (wake_fd_ < 0)
    Panic("cannot create the event loop's wake-up channel: %s", std::strerror(errno));
  waker_ = std::make_unique<Waker>(this);
  if (int err = poller_->Add(wake_fd_, kReadable, waker_.get()); err != 0) {
    Panic("cannot register the event loop's wake-up channel: %s", std::strerror(-err));
  }
}

EventLoop::~EventLoop() {
  if (wake_write_fd_ >= 0 && wake_write_fd_ != wake_fd_) ::close(wake_write_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void EventLoop::Run() {
  std::thread::id none;
  if (!thread_id_.compare_exchange_strong(none, std::this_thread::get_id())) {
    Panic("EventLoop::Run called while another thread runs the loop");
  }
  now_ = Clock::now();
  SyncWallClock();
  while (!quit_.load(std::memory_order_acquire)) {
    // now_ is this wake-up's time; a timer is late by at most the batch just handled.
    const int n = poller_->Wait(timers_.MillisUntilNext(now_), events_);
    if (n < 0) Panic("%s wait failed: %s", poller_->backend(), std::strerror(-n));
    now_ = Clock::now();  // the one clock read of this iteration
    if (now_ >= next_wall_sync_) SyncWallClock();
    for (int i = 0; i < n; ++i) static_cast<IoHandler*>(events_[i].token)->HandleEvent(events_[i]);
    RunDeferred();
    timers_.RunExpired(now_);
    RunDeferred();
    RunPosted();
    RunDeferred();
  }
  RunPosted();
  RunDeferred();
  thread_id_.store(std::thread::id(), std::memory_order_relaxed);
}

// Once a second: follows steps and slewing of the system clock closely enough for
// one-second Date headers and log stamps.
void EventLoop::SyncWallClock() {
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  wall_offset_ = std::chrono::duration_cast<Clock::duration>(wall) - now_.time_since_epoch();
  next_wall_sync_ = now_ + std::chrono::seconds(1);
}

void EventLoop::Wake() {
  uint64_t one = 1;
  if (::write(wake_write_fd_, &one, sizeof one) < 0 && errno != EAGAIN) {
    // A lost wake-up leaves posted work (a drain, a durable acknowledgement) unrun.
    Panic("event loop wake-up write failed: %s", std::strerror(errno));
  }
}

void EventLoop::Quit() {
  quit_.store(true, std::memory_order_release);
  Wake();
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(task));
  }
  Wake();
}

// Timers are set from the cached wake-up time while the loop runs; before Run() the
// cached time may be old (the owner set up for a while), so read the clock then.
Clock::time_point EventLoop::TimerBase() const {
  return thread_id_.load(std::memory_order_relaxed) == std::thread::id() ? Clock::now() : now_;
}

TimerId EventLoop::RunAfter(Clock::duration delay, std::function<void()> cb) {
  AssertInLoopThread();
  return timers_.Add(TimerBase() + delay, Clock::duration::zero(), std::move(cb));
}

TimerId EventLoop::RunEvery(Clock::duration interval, std::function<void()> cb) {
  AssertInLoopThread();
  return timers_.Add(TimerBase() + interval, interval, std::move(cb));
}

void EventLoop::RunPosted() {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    running_posted_.swap(posted_);  // both vectors keep their capacity: no allocation
  }
  for (auto& t : running_posted_) t();
  running_posted_.clear();
}

void EventLoop::RunDeferred() {
  // Deferred tasks may defer more work (a close inside a close): drain until empty.
  while (!deferred_.empty()) {
    std::vector<std::function<void()>> batch;
    batch.swap(deferred_);
    for (auto& t : batch) t();
  }
}

}  // namespace httpkv::reactor
