// Storage side of replication: shipping records (ReadLog) into a replica (ApplyReplicated),
// term history and markers, full copies past the horizon, and discarding a divergent tail
// (DISCARD at Open), crash-safe at every file operation.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "storage/discard.h"
#include "storage/log_store.h"
#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FaultFileSystem;
using testing::OpenOrDie;
using testing::OpenWith;
using testing::TempDir;

std::map<std::string, std::string> Contents(const LogStore& store) {
  std::map<std::string, std::string> out;
  Status s = store.Scan({}, [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Everything the primary holds past the replica's end, in as many ReadLog turns as it takes.
void Ship(const LogStore& primary, LogStore* replica, uint64_t floor = 0,
          size_t max_bytes = 1 << 16) {
  FeedCursor cursor;
  cursor.last_seq = replica->LastSeq();
  while (true) {
    std::string batch;
    const FeedProgress p = primary.ReadLog(&cursor, primary.LastSeq(), floor, max_bytes, &batch);
    ASSERT_NE(p, FeedProgress::kHistoryLost);
    ASSERT_NE(p, FeedProgress::kCorrupt);
    LogStore::ApplyResult r;
    Status s = replica->ApplyReplicated(batch, &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (p == FeedProgress::kCaughtUp) break;
  }
  // Everything up to the primary's end was visited (what is missing was dropped).
  ASSERT_TRUE(replica->AdvanceTo(primary.LastSeq()).ok());
}

void Put(LogStore* store, const std::string& k, const std::string& v, uint64_t expires = 0) {
  Status s = store->Put(k, v, Precondition::kNone, 0, nullptr, expires);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST(ReplicationStore, ReplicaHoldsTheSameKeysValuesVersionsAndSeqs) {
  TempDir pd, rd;
  auto primary = OpenOrDie(pd.path());
  auto replica = OpenOrDie(rd.path());
  for (int i = 0; i < 300; ++i) Put(primary.get(), "k" + std::to_string(i % 50), std::to_string(i));
  ASSERT_TRUE(primary->Delete("k7", nullptr).ok());
  Put(primary.get(), "ttl", "v", LogStore::NowMs() + 3600'000);
  Ship(*primary, replica.get(), 0, 200);  // small turns: many batches
  EXPECT_EQ(replica->LastSeq(), primary->LastSeq());
  EXPECT_EQ(Contents(*replica), Contents(*primary));
  ValueMeta pm, rm;
  std::string v;
  ASSERT_TRUE(primary->Get("ttl", &v, &pm).ok());
  ASSERT_TRUE(replica->Get("ttl", &v, &rm).ok());
  EXPECT_EQ(rm.version, pm.version);
  EXPECT_EQ(rm.expires_at_ms, pm.expires_at_ms);
  EXPECT_EQ(replica->Get("k7", &v, nullptr).code(), Status::Code::kNotFound);
  // And after a restart, from its own log.
  const auto want = Contents(*primary);
  const uint64_t last = primary->LastSeq();
  replica.reset();
  replica = OpenOrDie(rd.path());
  EXPECT_EQ(replica->LastSeq(), last);
  EXPECT_EQ(Contents(*replica), want);
  // Live from there: new writes follow.
  Put(primary.get(), "k1", "later");
  Ship(*primary, replica.get());
  EXPECT_EQ(Contents(*replica), Contents(*primary));
}

TEST(ReplicationStore, ApplyRefusesOldSeqsAndDamagedRecords) {
  TempDir pd, rd;
  auto primary = OpenOrDie(pd.path());
  auto replica = OpenOrDie(rd.path());
  Put(primary.get(), "a", "1");
  Put(primary.get(), "b", "2");
  FeedCursor c;
  std::string all;
  primary->ReadLog(&c, primary->LastSeq(), 0, 1 << 20, &all);
  LogStore::ApplyResult r;
  ASSERT_TRUE(replica->ApplyReplicated(all, &r).ok());
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(replica->ApplyReplicated(all, &r).code(), Status::Code::kInvalidArgument);
  Put(primary.get(), "c", "3");
  std::string next;
  primary->ReadLog(&c, primary->LastSeq(), 0, 1 << 20, &next);
  std::string damaged = next;
  damaged[damaged.size() - 1] ^= 1;
  EXPECT_EQ(replica->ApplyReplicated(damaged, &r).code(), Status::Code::kCorruption);
  EXPECT_EQ(replica->ApplyReplicated(next.substr(0, next.size() - 1), &r).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(replica->LastSeq(), 2u);  // nothing of the refused batches
  ASSERT_TRUE(replica->ApplyReplicated(next, &r).ok());
  EXPECT_EQ(Contents(*replica), Contents(*primary));
}

TEST(ReplicationStore, TermsAreRecordedShippedAndInvisibleToTheFeed) {
  TempDir pd, rd;
  auto primary = OpenOrDie(pd.path());
  auto replica = OpenOrDie(rd.path());
  Put(primary.get(), "a", "1");
  uint64_t seq = 0;
  ASSERT_TRUE(primary->BeginTerm(7, &seq).ok());
  EXPECT_EQ(seq, 2u);
  EXPECT_EQ(primary->BeginTerm(7, nullptr).code(), Status::Code::kInvalidArgument);
  Put(primary.get(), "b", "2");
  EXPECT_EQ(primary->CurrentTerm(), 7u);
  Ship(*primary, replica.get());
  EXPECT_EQ(replica->term_history(), (TermHistory{{7, 2}}));
  EXPECT_EQ(replica->LastSeq(), 3u);
  // The feed sees the two puts only.
  std::vector<uint64_t> seqs;
  FeedCursor c;
  replica->ReadChanges(
      &c, replica->LastSeq(), "", 100,
      [](void* ctx, const ChangeEvent& ev) {
        static_cast<std::vector<uint64_t>*>(ctx)->push_back(ev.seq);
        return true;
      },
      &seqs);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 3}));
  // Both survive a restart.
  primary.reset();
  replica.reset();
  primary = OpenOrDie(pd.path());
  replica = OpenOrDie(rd.path());
  EXPECT_EQ(primary->term_history(), (TermHistory{{7, 2}}));
  EXPECT_EQ(replica->term_history(), (TermHistory{{7, 2}}));
  EXPECT_EQ(primary->LastSeq(), 3u);
}

TEST(ReplicationStore, FullCopyPastTheHorizonSkipsWhatCompactionDropped) {
  TempDir pd, rd;
  Options po;
  po.dir = pd.path();
  po.fsync = FsyncPolicy::kNever;
  po.segment_bytes = 4096;
  auto primary = OpenWith(po);
  for (int i = 0; i < 400; ++i) Put(primary.get(), "k" + std::to_string(i % 20), std::to_string(i));
  ASSERT_TRUE(primary->Delete("k3", nullptr).ok());
  ASSERT_TRUE(primary->Compact().ok());
  const uint64_t horizon = primary->SeqHorizon();
  ASSERT_GT(horizon, 0u);
  auto replica = OpenOrDie(rd.path());
  FeedCursor c;
  std::string out;
  EXPECT_EQ(primary->ReadLog(&c, primary->LastSeq(), 0, 1 << 20, &out), FeedProgress::kHistoryLost);
  Ship(*primary, replica.get(), horizon);
  EXPECT_EQ(Contents(*replica), Contents(*primary));
  EXPECT_EQ(replica->LastSeq(), primary->LastSeq());
  EXPECT_GE(replica->SeqHorizon(), 1u);  // the copy has gaps: no feed history before them
  replica.reset();
  replica = OpenOrDie(rd.path());
  EXPECT_EQ(Contents(*replica), Contents(*primary));
  EXPECT_GE(replica->SeqHorizon(), 1u);
}

// A former primary wrote a tail in its term that the new primary never got.
struct Diverged {
  TempDir dir;
  std::map<std::string, std::string> common;
  uint64_t common_last = 0;
  void Build(uint64_t segment_bytes) {
    Options o;
    o.dir = dir.path();
    o.fsync = FsyncPolicy::kNever;
    o.segment_bytes = segment_bytes;
    o.compact_dead_ratio = 1;  // no automatic compaction: it would make the cut keep nothing
    auto s = OpenWith(o);
    ASSERT_TRUE(s->BeginTerm(3, nullptr).ok());
    for (int i = 0; i < 100; ++i)
      Put(s.get(), "k" + std::to_string(i % 10), "old" + std::to_string(i));
    common = Contents(*s);
    common_last = s->LastSeq();
    ASSERT_TRUE(s->BeginTerm(5, nullptr).ok());
    for (int i = 0; i < 200; ++i)
      Put(s.get(), "k" + std::to_string(i % 15), "new" + std::to_string(i));
    ASSERT_TRUE(s->Delete("k2", nullptr).ok());
    ASSERT_TRUE(s->ScheduleDiscard(common_last).ok());
  }
};

TEST(ReplicationStore, DiscardCutsTheDivergentTailAtTheNextOpen) {
  for (uint64_t seg : {uint64_t{64} << 20, uint64_t{2048}}) {  // one segment, and many
    SCOPED_TRACE(seg);
    Diverged d;
    d.Build(seg);
    auto s = OpenOrDie(d.dir.path());
    std::string notes;
    for (const auto& w : s->recovery().warnings) notes += w + "\n";
    EXPECT_EQ(s->LastSeq(), d.common_last) << notes;
    EXPECT_EQ(Contents(*s), d.common);
    EXPECT_EQ(s->term_history(), (TermHistory{{3, 1}}));
    EXPECT_FALSE(testing::FileExists(d.dir.path() + "/DISCARD"));
    Put(s.get(), "after", "x");  // numbering goes on right after the cut
    EXPECT_EQ(s->LastSeq(), d.common_last + 1);
  }
}

TEST(ReplicationStore, DiscardBeforeACompactionKeepsNothing) {
  TempDir dir;
  Options o;
  o.dir = dir.path();
  o.fsync = FsyncPolicy::kNever;
  o.segment_bytes = 2048;
  {
    auto s = OpenWith(o);
    for (int i = 0; i < 200; ++i) Put(s.get(), "k" + std::to_string(i % 10), std::to_string(i));
    ASSERT_TRUE(s->Compact().ok());
    ASSERT_TRUE(s->ScheduleDiscard(50).ok());  // compaction may have dropped what 1..50 needs
  }
  auto s = OpenWith(o);
  EXPECT_EQ(s->LastSeq(), 0u);
  EXPECT_TRUE(Contents(*s).empty());
  bool noted = false;
  for (const auto& w : s->recovery().warnings)
    noted |= w.find("keeping nothing") != std::string::npos;
  EXPECT_TRUE(noted);
}

// Fails each file operation of the discard in turn, then opens again without faults: the
// result is always the cut log.
TEST(ReplicationStore, DiscardIsCrashSafeAtEveryStep) {
  uint64_t ops = 0;
  {
    Diverged d;
    d.Build(2048);
    FaultFileSystem fs;
    Options o;
    o.dir = d.dir.path();
    o.fs = &fs;
    std::vector<std::string> notes;
    ASSERT_TRUE(ApplyPendingDiscard(&fs, o.dir, &notes).ok());
    for (size_t i = 0; i < testing::kFsOpCount; ++i) ops += fs.count(static_cast<testing::FsOp>(i));
  }
  ASSERT_GT(ops, 3u);
  for (uint64_t n = 1; n <= ops; ++n) {
    SCOPED_TRACE(n);
    Diverged d;
    d.Build(2048);
    FaultFileSystem fs;
    fs.FailNth(n);
    std::vector<std::string> notes;
    EXPECT_FALSE(ApplyPendingDiscard(&fs, d.dir.path(), &notes).ok());
    EXPECT_TRUE(fs.fired());
    auto s = OpenOrDie(d.dir.path());
    EXPECT_EQ(s->LastSeq(), d.common_last);
    EXPECT_EQ(Contents(*s), d.common);
    EXPECT_EQ(s->term_history(), (TermHistory{{3, 1}}));
  }
}

TEST(TermHistoryTest, CommonEndFindsWhereTwoLogsStopAgreeing) {
  const TermHistory p{{1, 1}, {5, 100}};
  // Same terms: the shorter log.
  EXPECT_EQ(CommonEnd(TermHistory{{1, 1}, {5, 100}}, 150, p, 180), 150u);
  // A term the other never had (an old primary's tail): up to where that term began.
  EXPECT_EQ(CommonEnd(TermHistory{{1, 1}, {3, 90}}, 95, p, 180), 89u);
  // The old primary of term 1 wrote past where term 5 began.
  EXPECT_EQ(CommonEnd(TermHistory{{1, 1}}, 120, p, 180), 99u);
  // Nothing shared but records written before any term.
  EXPECT_EQ(CommonEnd(TermHistory{{2, 10}}, 50, p, 180), 0u);
  EXPECT_EQ(CommonEnd(TermHistory{{2, 10}}, 50, TermHistory{{4, 20}}, 80), 9u);
  EXPECT_EQ(CommonEnd({}, 7, {}, 9), 7u);
  // A term with the same number but another start is not the same term.
  EXPECT_EQ(CommonEnd(TermHistory{{1, 1}, {5, 101}}, 150, p, 180), 99u);
}

TEST(TermHistoryTest, FormatAndParseRoundTrip) {
  const TermHistory h{{1, 1}, {5, 100}, {9, 100}};
  TermHistory back;
  ASSERT_TRUE(ParseTermHistory(FormatTermHistory(h), &back));
  EXPECT_EQ(back, h);
  EXPECT_TRUE(ParseTermHistory("", &back));
  EXPECT_TRUE(back.empty());
  for (const char* bad :
       {"1", "1:", ":1", "1:0", "5:10,3:20", "5:10,6:9", "1:1,", "a:1", "1:1;2:2"}) {
    EXPECT_FALSE(ParseTermHistory(bad, &back)) << bad;
  }
  TermHistory decoded;
  ASSERT_TRUE(DecodeTermHistory(EncodeTermHistory(h), &decoded).ok());
  EXPECT_EQ(decoded, h);
  std::string damaged = EncodeTermHistory(h);
  damaged[10] ^= 1;
  EXPECT_FALSE(DecodeTermHistory(damaged, &decoded).ok());
  EXPECT_EQ(TermAt(h, 0), 0u);
  EXPECT_EQ(TermAt(h, 99), 1u);
  EXPECT_EQ(TermAt(h, 100), 9u);
}

}  // namespace
}  // namespace httpkv::storage
