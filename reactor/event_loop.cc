#include "reactor/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace httpkv::reactor {

// Drains the eventfd so the level-triggered poller stops reporting it.
class EventLoop::Waker final : public IoHandler {
 public:
  explicit Waker(EventLoop* loop) : loop_(loop) {}
  void HandleEvent(const PollEvent&) override {
    uint64_t v;
    while (::read(loop_->wake_fd_, &v, sizeof v) < 0 && errno == EINTR) {
    }
  }

 private:
  EventLoop* loop_;
};

EventLoop::EventLoop()
    : poller_(NewPoller()),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      waker_(std::make_unique<Waker>(this)),
      thread_id_(std::this_thread::get_id()),
      now_(Clock::now()),
      events_(256) {
  if (poller_ && wake_fd_ >= 0 && poller_->Add(wake_fd_, kReadable, waker_.get()) != 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void EventLoop::Run() {
  thread_id_ = std::this_thread::get_id();
  while (!quit_.load(std::memory_order_acquire)) {
    int timeout = timers_.MillisUntilNext(Clock::now());
    int n = poller_->Wait(timeout, events_);
    now_ = Clock::now();
    if (n < 0) {
      std::fprintf(stderr, "httpkv: poller wait failed: errno %d\n", -n);
      break;
    }
    for (int i = 0; i < n; ++i) static_cast<IoHandler*>(events_[i].token)->HandleEvent(events_[i]);
    RunDeferred();
    timers_.RunExpired(now_);
    RunDeferred();
    RunPosted();
    RunDeferred();
  }
  RunPosted();
  RunDeferred();
}

void EventLoop::Quit() {
  quit_.store(true, std::memory_order_release);
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0 && errno != EAGAIN) {
    std::perror("httpkv: eventfd write");
  }
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0 && errno != EAGAIN) {
    std::perror("httpkv: eventfd write");
  }
}

TimerId EventLoop::RunAfter(Clock::duration delay, std::function<void()> cb) {
  return timers_.Add(Clock::now() + delay, Clock::duration::zero(), std::move(cb));
}

TimerId EventLoop::RunEvery(Clock::duration interval, std::function<void()> cb) {
  return timers_.Add(Clock::now() + interval, interval, std::move(cb));
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    tasks.swap(posted_);
  }
  for (auto& t : tasks) t();
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
