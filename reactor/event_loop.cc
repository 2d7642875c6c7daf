#include "reactor/event_loop.h"

#include <fcntl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <cerrno>
#include <cstdio>

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

EventLoop::EventLoop()
    : poller_(NewPoller()),
      wake_fd_(OpenWakeChannel(&wake_write_fd_)),
      waker_(std::make_unique<Waker>(this)),
      thread_id_(std::this_thread::get_id()),
      now_(Clock::now()),
      events_(256) {
  if (poller_ && wake_fd_ >= 0 && poller_->Add(wake_fd_, kReadable, waker_.get()) != 0) {
    if (wake_write_fd_ != wake_fd_) ::close(wake_write_fd_);
    ::close(wake_fd_);
    wake_fd_ = wake_write_fd_ = -1;
  }
}

EventLoop::~EventLoop() {
  if (wake_write_fd_ >= 0 && wake_write_fd_ != wake_fd_) ::close(wake_write_fd_);
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
  if (::write(wake_write_fd_, &one, sizeof one) < 0 && errno != EAGAIN) {
    std::perror("httpkv: wake-up write");
  }
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  if (::write(wake_write_fd_, &one, sizeof one) < 0 && errno != EAGAIN) {
    std::perror("httpkv: wake-up write");
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
