// Expiry in the store: expiring puts read as absent once due, the expiry thread writes an
// expire tombstone (seen by the change feed), restarts keep the key gone, compaction drops it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/check.h"
#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::OpenOrDie;
using testing::OpenWith;
using testing::TempDir;

// The store expires by the wall clock (LogStore::NowMs) and takes no injected clock, so a
// TTL must really pass: this sleeps until it has — the only sleep here, for time itself —
// then waits for the expiry thread to have written what became due (TEST_WaitIdle).
void WaitUntilExpired(LogStore* store, uint64_t at_ms) {
  for (uint64_t now = LogStore::NowMs(); now < at_ms; now = LogStore::NowMs()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(at_ms - now));
  }
  store->TEST_WaitIdle();
}

bool CollectTypes(void* ctx, const ChangeEvent& ev) {
  static_cast<std::vector<std::pair<RecordType, std::string>>*>(ctx)->push_back(
      {ev.type, std::string(ev.key)});
  return true;
}

TEST(ExpiryTest, ExpiredValueIsAbsentAndGetsAnExpireRecord) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const uint64_t later = LogStore::NowMs() + 3600 * 1000;
  ASSERT_TRUE(store->Put("keep", "k", Precondition::kNone, 0, nullptr, later).ok());
  ASSERT_TRUE(store->Put("plain", "p", Precondition::kNone, 0, nullptr).ok());
  // Due right away (an expiry in the past): absent at once, tombstone shortly after.
  ASSERT_TRUE(store->Put("gone", "g", Precondition::kNone, 0, nullptr, LogStore::NowMs() - 1).ok());
  std::string v;
  ValueMeta meta;
  EXPECT_TRUE(store->Get("gone", &v, &meta).IsNotFound());
  EXPECT_TRUE(store->Stat("gone", &meta).IsNotFound());
  ASSERT_TRUE(store->Get("keep", &v, &meta).ok());
  EXPECT_EQ(meta.expires_at_ms, later);
  ASSERT_TRUE(store->Stat("keep", &meta).ok());
  EXPECT_EQ(meta.expires_at_ms, later);
  ASSERT_TRUE(store->Stat("plain", &meta).ok());
  EXPECT_EQ(meta.expires_at_ms, 0u);
  std::vector<std::string> keys;
  ASSERT_TRUE(store
                  ->Scan({},
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"keep", "plain"}));
  // An expired key is absent for preconditions too.
  EXPECT_TRUE(store->Delete("gone", nullptr).IsNotFound());
  store->TEST_WaitIdle();           // it was due at once
  ASSERT_EQ(store->LastSeq(), 4u);  // the expire tombstone
  FeedCursor c;
  c.last_seq = 3;
  std::vector<std::pair<RecordType, std::string>> seen;
  EXPECT_EQ(store->ReadChanges(&c, store->FeedSeq(), "", 100, &CollectTypes, &seen),
            FeedProgress::kCaughtUp);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, RecordType::kExpire);
  EXPECT_EQ(seen[0].second, "gone");
  EXPECT_EQ(store->stats().keys, 2u);
  WriteResult r;
  ASSERT_TRUE(store->Put("gone", "again", Precondition::kMustNotExist, 0, &r).ok());
  EXPECT_FALSE(r.existed);
}

TEST(ExpiryTest, ExpiresAtItsTimeWithoutBeingRead) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const uint64_t at = LogStore::NowMs() + 150;
  ASSERT_TRUE(store->Put("t", "v", Precondition::kNone, 0, nullptr, at).ok());
  const uint64_t seq_before = store->LastSeq();
  EXPECT_TRUE(seq_before == 1 || LogStore::NowMs() >= at);  // not before it was due
  WaitUntilExpired(store.get(), at);
  ASSERT_EQ(store->LastSeq(), 2u);
  EXPECT_EQ(store->stats().keys, 0u);
}

TEST(ExpiryTest, OverwriteCancelsTheExpiry) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("t", "v", Precondition::kNone, 0, nullptr, LogStore::NowMs() + 100).ok());
  ASSERT_TRUE(store->Put("t", "forever", Precondition::kNone, 0, nullptr).ok());
  const uint64_t u_at = LogStore::NowMs() + 200;
  ASSERT_TRUE(store->Put("u", "v", Precondition::kNone, 0, nullptr, u_at).ok());
  WaitUntilExpired(store.get(), u_at);
  ASSERT_EQ(store->LastSeq(), 4u);  // u expired
  std::string v;
  ASSERT_TRUE(store->Get("t", &v, nullptr).ok());
  EXPECT_EQ(v, "forever");
  EXPECT_EQ(store->LastSeq(), 4u);  // no tombstone for t
}

TEST(ExpiryTest, RestartKeepsExpiredGoneAndRequeuesLiveOnes) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kNever;
  opts.compact_dead_ratio = 1;
  const uint64_t soon = LogStore::NowMs() + 300;
  {
    auto store = OpenWith(opts);
    ASSERT_TRUE(store->Put("a", "1", Precondition::kNone, 0, nullptr, soon).ok());
    ASSERT_TRUE(store->Put("b", "2", Precondition::kNone, 0, nullptr).ok());
  }  // closed before a expired: no tombstone on disk
  auto store = OpenWith(opts);
  std::string v;
  ValueMeta meta;
  ASSERT_TRUE(store->Get("a", &v, &meta).ok() || LogStore::NowMs() >= soon);
  WaitUntilExpired(store.get(), soon);
  ASSERT_EQ(store->LastSeq(), 3u);  // queued again at Open
  EXPECT_TRUE(store->Get("a", &v, nullptr).IsNotFound());
  // Compaction drops the expired put and its tombstone.
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_EQ(store->SeqHorizon(), 3u);
  const Stats st = store->stats();
  EXPECT_EQ(st.keys, 1u);
  EXPECT_EQ(st.dead_bytes, 0u);
  store.reset();
  store = OpenWith(opts);
  EXPECT_TRUE(store->Get("a", &v, nullptr).IsNotFound());
  ASSERT_TRUE(store->Get("b", &v, nullptr).ok());
  EXPECT_EQ(store->LastSeq(), 3u);
}

// --check reads version 3 records (and the version 2 ones around them) as valid.
TEST(ExpiryTest, CheckAcceptsBothRecordVersions) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(store->Put("old", "v2 record", Precondition::kNone, 0, nullptr).ok());
    ASSERT_TRUE(
        store->Put("ttl", "v3 record", Precondition::kNone, 0, nullptr, LogStore::NowMs() - 1)
            .ok());
    store->TEST_WaitIdle();           // it was due at once
    ASSERT_EQ(store->LastSeq(), 3u);  // + the expire tombstone
  }
  CheckReport report;
  ASSERT_TRUE(CheckDataDir(dir.path(), &report).ok());
  EXPECT_EQ(report.records, 3u);
  EXPECT_EQ(report.damaged_bytes, 0u);
}

}  // namespace
}  // namespace httpkv::storage
