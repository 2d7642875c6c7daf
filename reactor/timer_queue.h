// TimerQueue: one-shot and repeating timers in a binary min-heap keyed by deadline.
// Cancel is O(1) (the callback is dropped; its heap slot is skipped when it surfaces),
// so closing many connections never rebuilds the heap. Loop-thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

namespace httpkv::reactor {

using Clock = std::chrono::steady_clock;
using TimerId = uint64_t;

class TimerQueue {
 public:
  TimerId Add(Clock::time_point when, Clock::duration interval, std::function<void()> cb);
  void Cancel(TimerId id) { callbacks_.erase(id); }
  // Milliseconds until the next live deadline (rounded up), or -1 when there is none.
  int MillisUntilNext(Clock::time_point now);
  // Runs every callback whose deadline is <= now; repeating ones are re-armed.
  void RunExpired(Clock::time_point now);
  size_t size() const { return callbacks_.size(); }

 private:
  struct Slot {
    Clock::time_point when;
    TimerId id;
    bool operator>(const Slot& o) const { return when > o.when || (when == o.when && id > o.id); }
  };
  struct Entry {
    Clock::duration interval;
    std::function<void()> cb;
  };
  void DropCancelledTop();

  std::vector<Slot> heap_;  // std::push_heap/pop_heap with greater<> = min-heap
  std::unordered_map<TimerId, Entry> callbacks_;
  TimerId next_id_ = 1;
};

}  // namespace httpkv::reactor
