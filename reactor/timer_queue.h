// TimerQueue: one-shot and repeating timers in a binary min-heap keyed by deadline.
// Cancel is O(1) (the entry is freed; its heap slot is skipped when it surfaces), so
// closing many connections never rebuilds the heap. Entries live in a slab reused
// through a free list and ids carry a generation, so in the steady state adding,
// cancelling and firing timers allocates nothing (a callback of two pointers is stored
// inline by std::function). Loop-thread only; time is passed in (tests inject it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace httpkv::reactor {

using Clock = std::chrono::steady_clock;
using TimerId = uint64_t;  // never 0: (generation << 32) | slab index, generation >= 1

class TimerQueue {
 public:
  TimerId Add(Clock::time_point when, Clock::duration interval, std::function<void()> cb);
  void Cancel(TimerId id);
  // Milliseconds until the next live deadline (rounded up), or -1 when there is none.
  int MillisUntilNext(Clock::time_point now);
  // Runs every callback whose deadline is <= now; repeating ones are re-armed.
  void RunExpired(Clock::time_point now);
  size_t size() const { return live_; }

 private:
  struct Slot {
    Clock::time_point when;
    TimerId id;
    bool operator>(const Slot& o) const { return when > o.when || (when == o.when && id > o.id); }
  };
  struct Entry {
    Clock::duration interval{};
    std::function<void()> cb;
    uint32_t generation = 1;
    bool live = false;
  };
  static uint32_t IndexOf(TimerId id) { return static_cast<uint32_t>(id); }
  bool IsLive(TimerId id) const;
  void Free(uint32_t index);
  void DropCancelledTop();

  std::vector<Slot> heap_;  // std::push_heap/pop_heap with greater<> = min-heap
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;  // indices of entries_ not in use
  size_t live_ = 0;
};

}  // namespace httpkv::reactor
