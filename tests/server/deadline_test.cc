// CheckDeadline with made-up time points (a fake clock): which timeout applies when.
#include "server/deadline.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace httpkv::server
