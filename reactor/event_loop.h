// EventLoop: one per thread (muduo / libuv style). It owns a Poller, a timer heap,
// and a wake-up eventfd so other threads can Post() work or Quit() it.
//
// Thread affinity: while Run() runs, everything except Post() and Quit() must be called
// on the thread that runs it; AssertInLoopThread() panics otherwise (reactor/panic.h).
// While no thread runs it the loop belongs to its owner only: the thread that built it, or
// the one that took it (TakeOwnership) to set it up for Run() on itself. Run() may be
// called on any thread; the owner sets the loop up before and tears it down after. No other
// thread passes the check, before Run() either (a SIGHUP handler on another thread must Post).
// Handlers registered with the poller are IoHandler objects; the loop never owns them. Objects that
// close themselves during dispatch are destroyed through Defer(), which runs after the current
// batch of events.
//
// Time: the clock is read once per wake-up (after the poller returns); now(), RunAfter()
// and the timers all use that cached value, so serving a request reads no clock.
// wall_seconds() (Date headers, access-log stamps) is derived from it with an offset to
// the system clock that is re-read once a second.
// Failure: a loop that cannot be created or cannot wait panics (one line, abort):
// a dead loop must not leave its listener taking connections.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "reactor/buffer.h"
#include "reactor/buffer_pool.h"
#include "reactor/panic.h"
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
  // Creates the poller through new_poller (a test seam); panics if it or the wake-up
  // channel cannot be created.
  using PollerFactory = int (*)(std::unique_ptr<Poller>*);
  explicit EventLoop(PollerFactory new_poller = NewPoller);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Quit(), bound to the calling thread. Panics if the poller fails or another
  // thread runs it.
  void Run();
  void Quit();                            // any thread
  void Post(std::function<void()> task);  // any thread; runs on the loop thread

  void Defer(std::function<void()> task) {
    AssertInLoopThread();
    deferred_.push_back(std::move(task));
  }
  TimerId RunAfter(Clock::duration delay, std::function<void()> cb);
  TimerId RunEvery(Clock::duration interval, std::function<void()> cb);
  void Cancel(TimerId id) {
    AssertInLoopThread();
    timers_.Cancel(id);
  }

  Poller& poller() { return *poller_; }
  // Scratch buffers lent to one connection at a time during an event (Connection).
  Buffer& scratch_input() { return scratch_input_; }
  Buffer& scratch_output() { return scratch_output_; }
  // Spare storage for the buffers connections own between events (Connection).
  BufferPool& buffer_pool() { return buffer_pool_; }
  // The time of the current wake-up (read once per loop iteration).
  Clock::time_point now() const { return now_; }
  // UTC seconds of the current wake-up (system clock, re-synchronised every second).
  int64_t wall_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch() + wall_offset_)
        .count();
  }
  // True on the thread running Run(); while no thread runs it, on the owner's thread only.
  bool IsInLoopThread() const {
    const std::thread::id bound = thread_id_.load(std::memory_order_relaxed);
    const std::thread::id self = std::this_thread::get_id();
    return bound == self || (bound == std::thread::id() && owner_.load() == self);
  }
  // Makes the calling thread the owner, for a loop built by one thread and set up and run by
  // another (a bench worker's thread opens its own connections before Run()). Only while no
  // thread runs the loop; the previous owner must not touch it any more.
  void TakeOwnership() {
    if (thread_id_.load() != std::thread::id()) Panic("TakeOwnership of a running event loop");
    owner_.store(std::this_thread::get_id());
  }
  // Panics (one line naming the caller) unless IsInLoopThread().
  void AssertInLoopThread(const char* caller = __builtin_FUNCTION()) const {
    if (!IsInLoopThread()) Panic("%s called off its event loop's thread", caller);
  }

 private:
  class Waker;
  void RunPosted();
  void RunDeferred();
  void Wake();
  void SyncWallClock();
  Clock::time_point TimerBase() const;

  std::unique_ptr<Poller> poller_;
  int wake_write_fd_ = -1;  // write end for Post()/Quit()
  int wake_fd_ = -1;        // read end, registered with the poller (== write end for eventfd)
  std::unique_ptr<Waker> waker_;
  TimerQueue timers_;
  std::vector<std::function<void()>> deferred_;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mu_
  std::atomic<bool> quit_{false};
  std::atomic<std::thread::id> owner_{std::this_thread::get_id()};  // built it, or took it
  std::atomic<std::thread::id> thread_id_{};                        // set while Run() runs
  Clock::time_point now_;
  Clock::duration wall_offset_{};  // system clock minus steady clock
  Clock::time_point next_wall_sync_;
  std::vector<std::function<void()>> running_posted_;  // keeps its capacity across batches
  std::vector<PollEvent> events_;
  Buffer scratch_input_;
  Buffer scratch_output_;
  BufferPool buffer_pool_;
};

}  // namespace httpkv::reactor
