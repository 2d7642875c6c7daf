// EventLoop: one per thread (muduo / libuv style). It owns a Poller, a timer heap,
// and a wake-up eventfd so other threads can Post() work or Quit() it.
//
// Thread affinity: everything except Post() and Quit() must be called on the thread
// that runs Run(). Handlers registered with the poller are IoHandler objects; the
// loop never owns them. Objects that close themselves during dispatch are destroyed
// through Defer(), which runs after the current batch of events.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "reactor/buffer.h"
#include "reactor/poller.h"
#include "reactor/timer_queue.h"

namespace httpkv::reactor {

class IoHandler {
 public:
  virtual void HandleEvent(const PollEvent& ev) = 0;

 protected:
  ~IoHandler() = default;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool ok() const { return poller_ != nullptr && wake_fd_ >= 0; }

  // Runs until Quit(). Binds the loop to the calling thread.
  void Run();
  void Quit();                            // any thread
  void Post(std::function<void()> task);  // any thread; runs on the loop thread

  void Defer(std::function<void()> task) { deferred_.push_back(std::move(task)); }
  TimerId RunAfter(Clock::duration delay, std::function<void()> cb);
  TimerId RunEvery(Clock::duration interval, std::function<void()> cb);
  void Cancel(TimerId id) { timers_.Cancel(id); }

  Poller& poller() { return *poller_; }
  // Scratch buffers lent to one connection at a time during an event (Connection).
  Buffer& scratch_input() { return scratch_input_; }
  Buffer& scratch_output() { return scratch_output_; }
  Clock::time_point now() const { return now_; }  // cached at each wake-up
  bool IsInLoopThread() const { return thread_id_ == std::this_thread::get_id(); }

 private:
  class Waker;
  void RunPosted();
  void RunDeferred();

  std::unique_ptr<Poller> poller_;
  int wake_write_fd_ = -1;  // declared first: wake_fd_'s initializer sets it
  int wake_fd_ = -1;        // read end, registered with the poller (== write end for eventfd)
  std::unique_ptr<Waker> waker_;
  TimerQueue timers_;
  std::vector<std::function<void()>> deferred_;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mu_
  std::atomic<bool> quit_{false};
  std::thread::id thread_id_;
  Clock::time_point now_;
  std::vector<PollEvent> events_;
  Buffer scratch_input_;
  Buffer scratch_output_;
};

}  // namespace httpkv::reactor
