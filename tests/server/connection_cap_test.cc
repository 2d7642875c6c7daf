// The process-wide connection cap: sizing from RLIMIT_NOFILE (a pure function of the
// limits) and the shared slot counter.
#include "server/connection_cap.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace httpkv::server {
namespace {

TEST(ConnectionCap, DefaultIsSoftLimitMinusReserve) {
  ConnectionCapPlan p = PlanConnectionCap(0, /*soft=*/20000, /*hard=*/20000, /*reserve=*/100);
  EXPECT_EQ(p.cap, 19900u);
  EXPECT_EQ(p.raise_soft_to, 0u);  // the default never touches the limit
  EXPECT_TRUE(p.warning.empty());
  EXPECT_EQ(PlanConnectionCap(0, 1024, 1048576, 100).cap, 924u);
}

TEST(ConnectionCap, DefaultWithTooSmallALimitStillAdmitsOneAndWarns) {
  ConnectionCapPlan p = PlanConnectionCap(0, 64, 64, 100);
  EXPECT_EQ(p.cap, 1u);
  EXPECT_NE(p.warning.find("RLIMIT_NOFILE soft limit 64"), std::string::npos) << p.warning;
}

TEST(ConnectionCap, RequestWithinTheSoftLimitIsKept) {
  ConnectionCapPlan p = PlanConnectionCap(50, 1024, 1024, 100);
  EXPECT_EQ(p.cap, 50u);
  EXPECT_EQ(p.raise_soft_to, 0u);
  EXPECT_TRUE(p.warning.empty());
}

TEST(ConnectionCap, RequestAboveTheSoftLimitRaisesItUpToTheHardLimit) {
  ConnectionCapPlan p = PlanConnectionCap(10000, 1024, 1048576, 100);
  EXPECT_EQ(p.cap, 10000u);
  EXPECT_EQ(p.raise_soft_to, 10100u);
  EXPECT_TRUE(p.warning.empty());
}

TEST(ConnectionCap, RequestAboveTheHardLimitIsLoweredWithAWarning) {
  ConnectionCapPlan p = PlanConnectionCap(50000, 1024, 20000, 100);
  EXPECT_EQ(p.cap, 19900u);
  EXPECT_EQ(p.raise_soft_to, 20000u);
  EXPECT_EQ(p.warning,
            "--max-connections 50000 needs 50100 descriptors but RLIMIT_NOFILE allows 20000: "
            "lowered to 19900");
}

TEST(ConnectionCap, UnlimitedDescriptorsCapAtTheFlagsBound) {
  EXPECT_EQ(PlanConnectionCap(0, UINT64_MAX, UINT64_MAX, 100).cap, 10'000'000u);
}

TEST(ConnectionCap, ReserveCountsOpenFilesAndEachThreadsLoop) {
  EXPECT_EQ(FdReserve(10, 2), 10 + 6 + kFdHeadroom);
}

TEST(ConnectionSlots, OneCapAcrossThreads) {
  ConnectionSlots slots(100);
  std::vector<std::thread> threads;
  std::atomic<int> admitted{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) admitted += slots.TryAcquire() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 100);
  EXPECT_EQ(slots.open(), 100u);
  EXPECT_FALSE(slots.TryAcquire());
  slots.Release();
  EXPECT_TRUE(slots.TryAcquire());
}

}  // namespace
}  // namespace httpkv::server
