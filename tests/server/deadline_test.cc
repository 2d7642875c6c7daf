// CheckDeadline with made-up time points (a fake clock): which timeout applies when.
#include "server/base/deadline.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "reactor/timer_queue.h"

namespace httpkv::server {
namespace {

using std::chrono::seconds;

const Clock::time_point t0{};

TEST(Deadline, IdleCountsFromLastActivity) {
  Timeouts t;
  ConnProgress p;
  p.last_read = t0 + seconds(5);
  p.last_write = t0 + seconds(7);
  DeadlineVerdict v = CheckDeadline(p, t, t0 + seconds(30));
  EXPECT_EQ(v.action, DeadlineAction::kWait);
  EXPECT_EQ(v.at, t0 + seconds(67));
  EXPECT_EQ(CheckDeadline(p, t, t0 + seconds(67)).action, DeadlineAction::kCloseIdle);
}

TEST(Deadline, HeadDeadlineIgnoresTrickledBytes) {
  Timeouts t;
  ConnProgress p;
  p.reading_head = true;
  p.request_start = t0;
  p.last_read = t0 + seconds(9);  // bytes keep coming...
  EXPECT_EQ(CheckDeadline(p, t, t0 + seconds(9)).action, DeadlineAction::kWait);
  EXPECT_EQ(CheckDeadline(p, t, t0 + seconds(10)).action, DeadlineAction::kRequestTimeout);
}

TEST(Deadline, BodyDeadlineMovesWithProgress) {
  Timeouts t;
  ConnProgress p;
  p.reading_body = true;
  p.last_read = t0 + seconds(20);
  EXPECT_EQ(CheckDeadline(p, t, t0 + seconds(49)).action, DeadlineAction::kWait);
  EXPECT_EQ(CheckDeadline(p, t, t0 + seconds(50)).action, DeadlineAction::kRequestTimeout);
}

TEST(Deadline, PendingOutputUsesWriteTimeoutFirst) {
  Timeouts t;
  ConnProgress p;
  p.output_pending = true;
  p.reading_head = true;  // output takes precedence: the peer must read first
  p.request_start = t0;
  p.last_write = t0 + seconds(25);
  DeadlineVerdict v = CheckDeadline(p, t, t0 + seconds(40));
  EXPECT_EQ(v.action, DeadlineAction::kWait);
  EXPECT_EQ(v.at, t0 + seconds(55));
  EXPECT_EQ(CheckDeadline(p, t, t0 + seconds(55)).action, DeadlineAction::kCloseWriter);
}

TEST(Deadline, HeadThatStartsMovesTheIdleTimerForward) {
  Timeouts t;  // header 10 s < idle 60 s
  ConnProgress p;
  p.reading_head = true;
  p.request_start = t0 + seconds(3);
  p.last_read = t0 + seconds(3);
  const auto armed_at = t0 + seconds(60);  // the idle timer armed at accept
  EXPECT_EQ(EarlierDeadline(p, t, armed_at), t0 + seconds(13));
  EXPECT_EQ(EarlierDeadline(p, t, t0 + seconds(13)), std::nullopt);  // already there
  p.last_read = t0 + seconds(12);  // trickled bytes do not push it back
  EXPECT_EQ(EarlierDeadline(p, t, armed_at), t0 + seconds(13));
}

TEST(Deadline, BodyThatStartsMovesTheIdleTimerForward) {
  Timeouts t;  // body 30 s < idle 60 s
  ConnProgress p;
  p.reading_body = true;
  p.last_read = t0 + seconds(5);
  EXPECT_EQ(EarlierDeadline(p, t, t0 + seconds(60)), t0 + seconds(35));
}

TEST(Deadline, IdleOrLaterDeadlinesLeaveTheTimerAlone) {
  Timeouts t;
  t.header = seconds(120);  // longer than idle: the armed idle timer re-checks in time
  ConnProgress p;
  p.last_read = t0 + seconds(5);
  EXPECT_EQ(EarlierDeadline(p, t, t0 + seconds(60)), std::nullopt);  // idle
  p.reading_head = true;
  p.request_start = t0 + seconds(5);
  EXPECT_EQ(EarlierDeadline(p, t, t0 + seconds(60)), std::nullopt);
}

// The worker's use of both pieces, on TimerQueue with an injected clock: one timer per
// connection armed at accept for idle, moved when a head starts. The head deadline
// fires at first byte + header timeout although the idle deadline is much later.
TEST(Deadline, TricklingHeadTimesOutAtHeaderDeadlineOnTheTimerQueue) {
  Timeouts t;
  t.header = seconds(2);
  t.idle = seconds(5);
  reactor::TimerQueue timers;
  ConnProgress p;
  p.last_read = p.last_write = t0;
  std::optional<DeadlineVerdict> fired;
  Clock::time_point armed_at;
  reactor::TimerId timer = 0;
  Clock::time_point clock = t0;
  std::function<void(Clock::time_point)> arm = [&](Clock::time_point at) {
    armed_at = at;
    timer = timers.Add(at, Clock::duration::zero(), [&] {
      DeadlineVerdict v = CheckDeadline(p, t, clock);
      if (v.action == DeadlineAction::kWait) return arm(v.at);
      fired = v;
    });
  };
  arm(t0 + t.idle);  // accept
  // One header byte every 0.5 s from t0 + 0.5 s (the reproduction).
  for (int i = 1; !fired && i <= 20; ++i) {
    clock = t0 + std::chrono::milliseconds(500 * i);
    timers.RunExpired(clock);
    if (fired) break;
    p.last_read = clock;
    if (!p.reading_head) {
      p.reading_head = true;
      p.request_start = clock;
    }
    if (auto at = EarlierDeadline(p, t, armed_at)) {
      timers.Cancel(timer);
      arm(*at);
    }
  }
  ASSERT_TRUE(fired.has_value());
  EXPECT_EQ(fired->action, DeadlineAction::kRequestTimeout);
  EXPECT_EQ(clock, t0 + std::chrono::milliseconds(2500));  // first byte at 0.5 s + 2 s
}

}  // namespace
}  // namespace httpkv::server
