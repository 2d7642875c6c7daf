// Backend-generic: these run against whichever Poller CMake selected (epoll or kqueue).
#include "reactor/poller.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace httpkv::reactor {
namespace {

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(NewPoller(&poller_), 0);
    ASSERT_NE(poller_, nullptr);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv_), 0);
  }
  void TearDown() override {
    ::close(sv_[0]);
    ::close(sv_[1]);
  }
  int WaitOnce(int timeout_ms) { return poller_->Wait(timeout_ms, events_); }

  std::unique_ptr<Poller> poller_;
  int sv_[2];
  std::array<PollEvent, 8> events_;
  int token_ = 0;
};

TEST_F(PollerTest, ReportsReadableWithToken) {
  ASSERT_EQ(poller_->Add(sv_[0], kReadable, &token_), 0);
  EXPECT_EQ(WaitOnce(0), 0);
  ASSERT_EQ(::write(sv_[1], "x", 1), 1);
  ASSERT_EQ(WaitOnce(1000), 1);
  EXPECT_EQ(events_[0].token, &token_);
  EXPECT_TRUE(events_[0].readable);
  EXPECT_FALSE(events_[0].writable);
}

TEST_F(PollerTest, LevelTriggeredRepeatsUntilDrained) {
  ASSERT_EQ(poller_->Add(sv_[0], kReadable, &token_), 0);
  ASSERT_EQ(::write(sv_[1], "xy", 2), 2);
  ASSERT_EQ(WaitOnce(1000), 1);
  ASSERT_EQ(WaitOnce(1000), 1);  // not consumed: reported again
  char c[2];
  ASSERT_EQ(::read(sv_[0], c, 2), 2);
  EXPECT_EQ(WaitOnce(0), 0);
}

TEST_F(PollerTest, ModifyAddsAndDropsWriteInterest) {
  ASSERT_EQ(poller_->Add(sv_[0], kReadable, &token_), 0);
  EXPECT_EQ(WaitOnce(0), 0);
  ASSERT_EQ(poller_->Modify(sv_[0], kReadable | kWritable, &token_), 0);
  ASSERT_EQ(WaitOnce(1000), 1);
  EXPECT_TRUE(events_[0].writable);
  ASSERT_EQ(poller_->Modify(sv_[0], kNoInterest, &token_), 0);
  ASSERT_EQ(::write(sv_[1], "x", 1), 1);
  EXPECT_EQ(WaitOnce(0), 0);  // no interest: nothing reported
}

TEST_F(PollerTest, RemoveStopsEvents) {
  ASSERT_EQ(poller_->Add(sv_[0], kReadable, &token_), 0);
  ASSERT_EQ(poller_->Remove(sv_[0]), 0);
  ASSERT_EQ(::write(sv_[1], "x", 1), 1);
  EXPECT_EQ(WaitOnce(0), 0);
}

// One convention for every method (poller.h): 0 on success, -errno on failure.
TEST_F(PollerTest, ErrorsAreNegativeErrno) {
  EXPECT_EQ(poller_->Modify(sv_[0], kReadable, &token_), -ENOENT);  // never added
  EXPECT_EQ(poller_->Remove(sv_[0]), -ENOENT);
  ASSERT_EQ(poller_->Add(sv_[0], kReadable, &token_), 0);
  EXPECT_EQ(poller_->Add(sv_[0], kReadable, &token_), -EEXIST);  // added twice
  EXPECT_EQ(poller_->Add(-1, kReadable, &token_), -EBADF);
}

#ifdef __linux__
TEST_F(PollerTest, WaitFailureIsNegativeErrno) {
  std::array<PollEvent, 1> one;
  EXPECT_EQ(poller_->Wait(0, std::span<PollEvent>(one.data(), 0)), -EINVAL);  // epoll: no room
}
#endif

TEST_F(PollerTest, PeerCloseIsReported) {
  ASSERT_EQ(poller_->Add(sv_[0], kReadable, &token_), 0);
  ::shutdown(sv_[1], SHUT_WR);
  ASSERT_EQ(WaitOnce(1000), 1);
  EXPECT_TRUE(events_[0].readable || events_[0].error);
  char c;
  EXPECT_EQ(::read(sv_[0], &c, 1), 0);
}

}  // namespace
}  // namespace httpkv::reactor
