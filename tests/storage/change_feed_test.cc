// The change feed's storage side: seq numbering across restarts, history in seq order from
// the mappings (across segments and compaction outputs), the horizon and its persistence.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::OpenOrDie;
using testing::OpenWith;
using testing::TempDir;

struct Seen {
  RecordType type;
  uint64_t seq;
  std::string key, value;
};

bool Collect(void* ctx, const ChangeEvent& ev) {
  static_cast<std::vector<Seen>*>(ctx)->push_back(
      {ev.type, ev.seq, std::string(ev.key), std::string(ev.value)});
  return true;
}

// Everything after `since` up to FeedSeq, in small budgets (as a reactor would read it).
FeedProgress ReadAll(const LogStore& store, FeedCursor* c, std::string_view prefix,
                     std::vector<Seen>* out) {
  FeedProgress p;
  do {
    p = store.ReadChanges(c, store.FeedSeq(), prefix, 3, &Collect, out);
  } while (p == FeedProgress::kMore);
  return p;
}

TEST(ChangeFeedTest, SeqIncreasesAndSurvivesRestart) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    EXPECT_EQ(store->LastSeq(), 0u);
    WriteResult r;
    ASSERT_TRUE(store->Put("a", "1", Precondition::kNone, 0, &r).ok());
    EXPECT_EQ(r.version, 1u);
    ASSERT_TRUE(store->Delete("a", &r).ok());
    EXPECT_EQ(store->LastSeq(), 2u);
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->LastSeq(), 2u);
  WriteResult r;
  ASSERT_TRUE(store->Put("b", "2", Precondition::kNone, 0, &r).ok());
  EXPECT_EQ(r.version, 3u);
}

TEST(ChangeFeedTest, HistoryInSeqOrderAcrossSegmentsWithPrefix) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kNever;
  opts.segment_bytes = 256;  // many rollovers
  opts.compact_dead_ratio = 1;
  auto store = OpenWith(opts);
  for (int i = 0; i < 60; ++i) {
    const std::string key = (i % 2 ? "x/" : "y/") + std::to_string(i);
    ASSERT_TRUE(store->Put(key, "v" + std::to_string(i), Precondition::kNone, 0, nullptr).ok());
  }
  ASSERT_TRUE(store->Delete("x/1", nullptr).ok());
  ASSERT_GT(store->stats().segments, 5u);

  FeedCursor c;
  c.last_seq = 10;
  std::vector<Seen> seen;
  EXPECT_EQ(ReadAll(*store, &c, "x/", &seen), FeedProgress::kCaughtUp);
  // Odd i at seq i+1 for i >= 10: seqs 12, 14, ..., 60, then the delete (61).
  ASSERT_EQ(seen.size(), 26u);
  for (size_t i = 0; i + 1 < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, 12 + 2 * i);
    EXPECT_EQ(seen[i].key, "x/" + std::to_string(seen[i].seq - 1));
    EXPECT_EQ(seen[i].value, "v" + std::to_string(seen[i].seq - 1));
    EXPECT_EQ(seen[i].type, RecordType::kPut);
  }
  EXPECT_EQ(seen.back().type, RecordType::kDelete);
  EXPECT_EQ(seen.back().key, "x/1");
  EXPECT_EQ(c.last_seq, 61u);

  // Live: new writes continue from the cursor, nothing repeated.
  seen.clear();
  ASSERT_TRUE(store->Put("x/new", "n", Precondition::kNone, 0, nullptr).ok());
  EXPECT_EQ(ReadAll(*store, &c, "", &seen), FeedProgress::kCaughtUp);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].seq, 62u);
}

TEST(ChangeFeedTest, TailCursorSeesOnlyLaterWrites) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("a", "1", Precondition::kNone, 0, nullptr).ok());
  FeedCursor c;
  store->TailCursor(&c);
  EXPECT_EQ(c.last_seq, 1u);
  std::vector<Seen> seen;
  EXPECT_EQ(ReadAll(*store, &c, "", &seen), FeedProgress::kCaughtUp);
  EXPECT_TRUE(seen.empty());
  ASSERT_TRUE(store->Put("b", "2", Precondition::kNone, 0, nullptr).ok());
  EXPECT_EQ(ReadAll(*store, &c, "", &seen), FeedProgress::kCaughtUp);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].key, "b");
}

TEST(ChangeFeedTest, CompactionRaisesHorizonPersistedAcrossRestart) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kNever;
  opts.compact_dead_ratio = 1;
  {
    auto store = OpenWith(opts);
    ASSERT_TRUE(store->Put("a", "1", Precondition::kNone, 0, nullptr).ok());  // 1, dropped
    ASSERT_TRUE(store->Put("b", "1", Precondition::kNone, 0, nullptr).ok());  // 2, live
    ASSERT_TRUE(store->Put("a", "2", Precondition::kNone, 0, nullptr).ok());  // 3, live
    ASSERT_TRUE(store->Put("c", "1", Precondition::kNone, 0, nullptr).ok());  // 4, dropped
    ASSERT_TRUE(store->Delete("c", nullptr).ok());                            // 5, dropped
    EXPECT_EQ(store->SeqHorizon(), 0u);
    FeedCursor behind;  // positioned in history before the compaction
    behind.last_seq = 0;
    std::vector<Seen> seen;
    ASSERT_EQ(store->ReadChanges(&behind, store->FeedSeq(), "", 1, &Collect, &seen),
              FeedProgress::kMore);
    ASSERT_TRUE(store->Compact().ok());
    EXPECT_EQ(store->SeqHorizon(), 5u);
    // What survives after the horizon is complete: a cursor at it sees every later write.
    FeedCursor c;
    c.last_seq = 5;
    ASSERT_TRUE(store->Put("d", "1", Precondition::kNone, 0, nullptr).ok());  // 6
    seen.clear();
    EXPECT_EQ(ReadAll(*store, &c, "", &seen), FeedProgress::kCaughtUp);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].seq, 6u);
    // The cursor left behind lost records: it is told so rather than shown a gap.
    seen.clear();
    EXPECT_EQ(ReadAll(*store, &behind, "", &seen), FeedProgress::kHistoryLost);
    ASSERT_TRUE(store->Delete("d", nullptr).ok());  // 7
    ASSERT_TRUE(store->Compact().ok());             // drops 6 and 7: no record left past 3
    EXPECT_EQ(store->SeqHorizon(), 7u);
  }
  auto store = OpenWith(opts);
  EXPECT_EQ(store->SeqHorizon(), 7u);
  EXPECT_EQ(store->LastSeq(), 7u);  // kept by the FEED file although no record holds it
  WriteResult r;
  ASSERT_TRUE(store->Put("e", "1", Precondition::kNone, 0, &r).ok());
  EXPECT_EQ(r.version, 8u);
}

TEST(ChangeFeedTest, HorizonRecomputedFromGapsWithoutFeedFile) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kNever;
  opts.compact_dead_ratio = 1;
  {
    auto store = OpenWith(opts);
    ASSERT_TRUE(store->Put("a", "1", Precondition::kNone, 0, nullptr).ok());
    ASSERT_TRUE(store->Put("a", "2", Precondition::kNone, 0, nullptr).ok());
    ASSERT_TRUE(store->Put("b", "1", Precondition::kNone, 0, nullptr).ok());
    ASSERT_TRUE(store->Compact().ok());  // drops seq 1
  }
  // As a data dir compacted by a binary that predates the FEED file.
  std::filesystem::remove(dir.path() + "/FEED");
  auto store = OpenWith(opts);
  EXPECT_EQ(store->SeqHorizon(), 1u);
  EXPECT_EQ(store->LastSeq(), 3u);
}

TEST(ChangeFeedTest, FsyncAlwaysFeedStopsAtDurableSeq) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kAlways;
  opts.group_commit = true;
  auto store = OpenWith(opts);
  WriteResult r;
  ASSERT_TRUE(store->Put("a", "1", Precondition::kNone, 0, &r).ok());
  EXPECT_EQ(store->LastSeq(), 1u);
  EXPECT_EQ(store->FeedSeq(), 0u);  // appended, not yet durable
  FeedCursor c;
  std::vector<Seen> seen;
  EXPECT_EQ(ReadAll(*store, &c, "", &seen), FeedProgress::kCaughtUp);
  EXPECT_TRUE(seen.empty());
  ASSERT_TRUE(store->Sync().ok());
  EXPECT_EQ(store->FeedSeq(), 1u);
  EXPECT_EQ(ReadAll(*store, &c, "", &seen), FeedProgress::kCaughtUp);
  ASSERT_EQ(seen.size(), 1u);
}

}  // namespace
}  // namespace httpkv::storage
