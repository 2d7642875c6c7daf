#include "reactor/timer_queue.h"

#include <algorithm>

namespace httpkv::reactor {

TimerId TimerQueue::Add(Clock::time_point when, Clock::duration interval,
                        std::function<void()> cb) {
  TimerId id = next_id_++;
  callbacks_.emplace(id, Entry{interval, std::move(cb)});
  heap_.push_back({when, id});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  return id;
}

void TimerQueue::DropCancelledTop() {
  while (!heap_.empty() && !callbacks_.count(heap_.front().id)) {
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
    Slot slot = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
    auto it = callbacks_.find(slot.id);
    if (it->second.interval > Clock::duration::zero()) {
      heap_.push_back({slot.when + it->second.interval, slot.id});
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
      auto cb = it->second.cb;  // copy: the callback may cancel itself
      cb();
    } else {
      auto cb = std::move(it->second.cb);
      callbacks_.erase(it);
      cb();
    }
  }
}

}  // namespace httpkv::reactor
