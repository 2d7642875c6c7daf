// Units of server/replication: the primary's commit seq and standby naming (ReplicaSet),
// the fetch request's wire form and the primary's verdict on it (log_shipping).
#include <gtest/gtest.h>

#include <filesystem>

#include "server/replication/log_shipping.h"
#include "server/replication/replica_set.h"
#include "server/replication/role_state.h"

namespace httpkv::server::replication {
namespace {

using Clock = std::chrono::steady_clock;

TEST(ReplicaSetTest, WithoutSyncNothingIsWaitedFor) {
  ReplicaSet rs(0);
  rs.Reset({}, 1);
  storage::FeedCursor c;
  rs.Ack("n2", "a:1", 5, Clock::now(), &c);
  EXPECT_EQ(rs.commit_seq(), UINT64_MAX);
  EXPECT_TRUE(rs.WantedStandbys(Clock::now(), std::chrono::seconds(5)).empty());
}

TEST(ReplicaSetTest, CommitIsWhatEveryNamedStandbyHolds) {
  ReplicaSet rs(1);
  int advanced = 0;
  rs.SetListener([](void* ctx) { ++*static_cast<int*>(ctx); }, &advanced);
  rs.Reset({}, 10);
  storage::FeedCursor c;
  const auto now = Clock::now();
  rs.Ack("n2", "a:2", 12, now, &c);
  rs.Ack("n3", "a:3", 8, now, &c);
  EXPECT_EQ(rs.commit_seq(), 0u);  // nobody named yet: nothing is committed
  // n3 is behind the term's start (it may lack earlier acknowledged writes): not named.
  const auto want = rs.WantedStandbys(now, std::chrono::seconds(5));
  ASSERT_EQ(want, std::vector<std::string>{"n2"});
  rs.BeginNaming(want);
  EXPECT_EQ(rs.commit_seq(), 0u);  // until etcd has it
  rs.FinishNaming(true);
  EXPECT_EQ(rs.commit_seq(), 12u);
  EXPECT_EQ(advanced, 1);
  rs.Ack("n3", "a:3", 30, now, &c);  // an unnamed replica does not move the commit
  EXPECT_EQ(rs.commit_seq(), 12u);
  rs.Ack("n2", "a:2", 20, now, &c);
  EXPECT_EQ(rs.commit_seq(), 20u);
  EXPECT_EQ(advanced, 2);
  rs.Ack("n2", "a:2", 15, now, &c);  // never goes back
  EXPECT_EQ(rs.commit_seq(), 20u);
}

TEST(ReplicaSetTest, ANamedStandbyThatWentQuietIsReplacedOnlyByOneHoldingEverything) {
  ReplicaSet rs(1);
  rs.Reset({"n2"}, 1);
  storage::FeedCursor c;
  const auto t0 = Clock::now();
  rs.Ack("n2", "a:2", 50, t0, &c);
  rs.Ack("n3", "a:3", 40, t0, &c);
  EXPECT_EQ(rs.commit_seq(), 50u);
  const auto later = t0 + std::chrono::seconds(10);
  // n2 went quiet; n3 lacks 41..50, which were acknowledged: n2 stays named.
  EXPECT_EQ(rs.WantedStandbys(later, std::chrono::seconds(5)), std::vector<std::string>{"n2"});
  rs.Ack("n3", "a:3", 50, later, &c);
  const auto want = rs.WantedStandbys(later, std::chrono::seconds(5));
  ASSERT_EQ(want, std::vector<std::string>{"n3"});
  // While etcd is written both count: a write is acknowledged only if both hold it.
  rs.BeginNaming(want);
  rs.Ack("n3", "a:3", 60, later, &c);
  EXPECT_EQ(rs.commit_seq(), 50u);
  rs.FinishNaming(true);
  EXPECT_EQ(rs.commit_seq(), 60u);
  EXPECT_EQ(rs.named(), std::vector<std::string>{"n3"});
}

TEST(ReplicaSetTest, AFailedNamingKeepsTheOldSet) {
  ReplicaSet rs(1);
  rs.Reset({"n2"}, 1);
  storage::FeedCursor c;
  rs.Ack("n3", "a:3", 9, Clock::now(), &c);
  rs.BeginNaming({"n3"});
  rs.FinishNaming(false);
  EXPECT_EQ(rs.named(), std::vector<std::string>{"n2"});
  EXPECT_EQ(rs.commit_seq(), 0u);
}

TEST(ReplicaSetTest, RemembersEachReplicasCursor) {
  ReplicaSet rs(0);
  rs.Reset({}, 1);
  storage::FeedCursor c;
  rs.Ack("n2", "a:2", 0, Clock::now(), &c);
  EXPECT_EQ(c.segment, 0u);
  rs.SaveCursor("n2", storage::FeedCursor{7, 3, 400});
  rs.Ack("n2", "a:2", 7, Clock::now(), &c);
  EXPECT_EQ(c.last_seq, 7u);
  EXPECT_EQ(c.segment, 3u);
  EXPECT_EQ(c.offset, 400u);
}

TEST(LogShippingTest, FetchPathRoundTrips) {
  FetchRequest req;
  req.node = "n2";
  req.addr = "127.0.0.3:4001";
  req.after = 42;
  req.floor = 9;
  req.history = {{3, 1}, {7, 30}};
  const std::string path = FormatFetchPath(req);
  ASSERT_TRUE(path.starts_with("/replication/log?"));
  FetchRequest back;
  EXPECT_EQ(ParseFetchQuery(path.substr(path.find('?') + 1), &back), "");
  EXPECT_EQ(back.node, "n2");
  EXPECT_EQ(back.addr, "127.0.0.3:4001");
  EXPECT_EQ(back.after, 42u);
  EXPECT_EQ(back.floor, 9u);
  EXPECT_EQ(back.history, req.history);
  for (const char* bad : {"after=1", "node=n1", "node=n1&after=x", "node=a%20b&after=1",
                          "node=n1&after=1&history=5:1,3:2", "node=n1&after=1&bogus=1"}) {
    EXPECT_NE(ParseFetchQuery(bad, &back), "") << bad;
  }
}

TEST(RoleStateTest, APrimaryTakesWritesOnlyBeforeItsDeadline) {
  RoleState role(Role::kElecting);
  const auto now = RoleState::Clock::now();
  EXPECT_FALSE(role.AcceptsWrites(now));
  role.BecomePrimary(5, now + std::chrono::seconds(1), "me:1");
  EXPECT_TRUE(role.AcceptsWrites(now));
  EXPECT_FALSE(role.AcceptsWrites(now + std::chrono::seconds(1)));
  role.ExtendLease(now + std::chrono::seconds(3));
  EXPECT_TRUE(role.AcceptsWrites(now + std::chrono::seconds(2)));
  role.BecomeReplica("other:2");
  EXPECT_FALSE(role.AcceptsWrites(now));
  EXPECT_EQ(role.primary(), "other:2");
  RoleState alone(Role::kStandalone);
  EXPECT_TRUE(alone.AcceptsWrites());
}

}  // namespace
}  // namespace httpkv::server::replication
