// Timers are tested against explicit time points (a fake clock): no sleeps.
#include "reactor/timer_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace httpkv::reactor {
namespace {

using std::chrono::milliseconds;

TEST(TimerQueue, FiresInDeadlineOrder) {
  TimerQueue q;
  const auto t0 = Clock::time_point{};
  std::vector<int> fired;
  q.Add(t0 + milliseconds(30), {}, [&] { fired.push_back(3); });
  q.Add(t0 + milliseconds(10), {}, [&] { fired.push_back(1); });
  q.Add(t0 + milliseconds(20), {}, [&] { fired.push_back(2); });
  EXPECT_EQ(q.MillisUntilNext(t0), 10);
  q.RunExpired(t0 + milliseconds(25));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  q.RunExpired(t0 + milliseconds(30));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.MillisUntilNext(t0), -1);
}

TEST(TimerQueue, CancelledTimerNeverFires) {
  TimerQueue q;
  const auto t0 = Clock::time_point{};
  int fired = 0;
  TimerId a = q.Add(t0 + milliseconds(5), {}, [&] { fired += 1; });
  q.Add(t0 + milliseconds(50), {}, [&] { fired += 10; });
  q.Cancel(a);
  EXPECT_EQ(q.MillisUntilNext(t0), 50);  // the cancelled slot is skipped
  q.RunExpired(t0 + milliseconds(100));
  EXPECT_EQ(fired, 10);
}

TEST(TimerQueue, RepeatingTimerRearmsAndCanCancelItself) {
  TimerQueue q;
  const auto t0 = Clock::time_point{};
  int fired = 0;
  TimerId id = 0;
  id = q.Add(t0 + milliseconds(10), milliseconds(10), [&] {
    if (++fired == 3) q.Cancel(id);
  });
  for (int ms = 10; ms <= 100; ms += 10) q.RunExpired(t0 + milliseconds(ms));
  EXPECT_EQ(fired, 3);
  EXPECT_EQ(q.size(), 0u);
}

TEST(TimerQueue, RoundsWaitUp) {
  TimerQueue q;
  const auto t0 = Clock::time_point{};
  q.Add(t0 + std::chrono::microseconds(1500), {}, [] {});
  EXPECT_EQ(q.MillisUntilNext(t0), 2);
  EXPECT_EQ(q.MillisUntilNext(t0 + milliseconds(5)), 0);
}

// Entries are reused through a free list; an old id must never reach the new timer.
TEST(TimerQueue, StaleIdDoesNotCancelTheTimerThatReusedItsSlot) {
  TimerQueue q;
  const auto t0 = Clock::time_point{};
  int old_fired = 0, new_fired = 0;
  const TimerId old_id = q.Add(t0 + milliseconds(10), {}, [&] { ++old_fired; });
  q.Cancel(old_id);
  const TimerId new_id = q.Add(t0 + milliseconds(20), {}, [&] { ++new_fired; });
  EXPECT_NE(new_id, old_id);
  EXPECT_NE(new_id, 0u);
  q.Cancel(old_id);  // stale: no effect
  EXPECT_EQ(q.size(), 1u);
  q.RunExpired(t0 + milliseconds(30));
  EXPECT_EQ(old_fired, 0);
  EXPECT_EQ(new_fired, 1);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.MillisUntilNext(t0), -1);
}

TEST(TimerQueue, CallbackMayAddTimersWhileRunning) {
  TimerQueue q;
  const auto t0 = Clock::time_point{};
  std::vector<int> order;
  q.Add(t0 + milliseconds(1), {}, [&] {
    order.push_back(1);
    for (int i = 0; i < 100; ++i) q.Add(t0 + milliseconds(2), {}, [&order] { order.push_back(2); });
  });
  q.RunExpired(t0 + milliseconds(5));
  EXPECT_EQ(order.size(), 101u);
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace httpkv::reactor
