#include "reactor/timer_queue.h"

#include <algorithm>

namespace httpkv::reactor {

TimerId TimerQueue::Add(Clock::time_point when, Clock::duration interval,
                        std::function<void()> cb) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  Entry& e = entries_[index];
  e.interval = interval;
  e.cb = std::move(cb);
  e.live = true;
  ++live_;
  const TimerId id = (TimerId{e.generation} << 32) | index;
  heap_.push_back({when, id});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  return id;
}

bool TimerQueue::IsLive(TimerId id) const {
  const uint32_t index = IndexOf(id);
  return index < entries_.size() && entries_[index].live &&
         entries_[index].generation == static_cast<uint32_t>(id >> 32);
}

void TimerQueue::Free(uint32_t index) {
  Entry& e = entries_[index];
  e.cb = nullptr;
  e.live = false;
  if (++e.generation == 0) e.generation = 1;  // ids stay nonzero
  free_.push_back(index);
  --live_;
}

void TimerQueue::Cancel(TimerId id) {
  if (IsLive(id)) Free(IndexOf(id));
}

void TimerQueue::DropCancelledTop() {
  while (!heap_.empty() && !IsLive(heap_.front().id)) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
  }
}

int TimerQueue::MillisUntilNext(Clock::time_point now) {
  DropCancelledTop();
  if (heap_.empty()) return -1;
  auto wait = heap_.front().when - now;
  if (wait <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void TimerQueue::RunExpired(Clock::time_point now) {
  for (;;) {
    DropCancelledTop();
    if (heap_.empty() || heap_.front().when > now) return;
    const Slot slot = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
    const uint32_t index = IndexOf(slot.id);
    // The callback may add timers (entries_ may move) or cancel itself: run it moved out.
    std::function<void()> cb = std::move(entries_[index].cb);
    const Clock::duration interval = entries_[index].interval;
    if (interval > Clock::duration::zero()) {
      heap_.push_back({slot.when + interval, slot.id});
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
      cb();
      if (IsLive(slot.id)) entries_[index].cb = std::move(cb);  // not cancelled meanwhile
    } else {
      Free(index);
      cb();
    }
  }
}

}  // namespace httpkv::reactor
