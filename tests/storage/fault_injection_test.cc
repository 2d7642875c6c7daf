// Fault injection through the FileSystem: every write, sync, truncation, rename, unlink and
// directory sync of the store is reachable, and every fdatasync is counted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "storage/check.h"
#include "storage/log_store.h"
#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FaultFileSystem;
using testing::FsOp;
using testing::GetValue;
using testing::TempDir;

constexpr const char* kAbsent = "<NotFound>";

Options SmallStore(const std::string& dir, FileSystem* fs, FsyncPolicy fsync) {
  Options opts;
  opts.dir = dir;
  opts.fs = fs;
  opts.fsync = fsync;
  opts.segment_bytes = 2048;
  opts.compact_dead_ratio = 1.0;  // compaction only when the workload asks
  return opts;
}

// Every fdatasync that went through fs is counted by the store: fs counts a sync before it
// runs and the store after, so once background work is done the two are equal — a sync the
// store missed would keep them apart forever.
bool SyncCountsConverge(const FaultFileSystem& fs, const LogStore& store) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fs.count(FsOp::kSync) != store.stats().fsyncs) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(FaultInjectionTest, FsyncCounterCountsEveryFdatasyncOfACompaction) {
  TempDir dir;
  FaultFileSystem fs;
  auto store = testing::OpenWith(SmallStore(dir.path(), &fs, FsyncPolicy::kNever));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(
          testing::PutValue(store.get(), "k" + std::to_string(i), std::string(20, 'v')).ok());
    }
  }
  ASSERT_TRUE(SyncCountsConverge(fs, *store))
      << fs.count(FsOp::kSync) << " syncs, " << store->stats().fsyncs << " counted";
  const uint64_t before = fs.count(FsOp::kSync);
  const uint64_t compactions = store->stats().compactions;
  ASSERT_TRUE(store->Compact().ok());
  ASSERT_EQ(store->stats().compactions, compactions + 1);
  ASSERT_TRUE(SyncCountsConverge(fs, *store))
      << fs.count(FsOp::kSync) << " syncs, " << store->stats().fsyncs << " counted";
  // Sealing the active segment, each output, its hint and the commit marker at least.
  EXPECT_GE(fs.count(FsOp::kSync) - before, 4u);
  EXPECT_EQ(store->stats().fsync_latency_ns.count, store->stats().fsyncs);
}

TEST(FaultInjectionTest, RecoveryTruncationIsCountedAndFaultable) {
  TempDir dir;
  {
    auto store = testing::OpenOrDie(dir.path());
    ASSERT_TRUE(testing::PutValue(store.get(), "a", "1").ok());
  }
  const std::string log = dir.log_path();
  testing::WriteFile(log, testing::ReadFile(log) + std::string("\x01\x02\x03", 3));  // torn
  FaultFileSystem fs;
  fs.FailNth(1, FsOp::kTruncate);
  std::unique_ptr<LogStore> store;
  Status s = LogStore::Open(SmallStore(dir.path(), &fs, FsyncPolicy::kNever), &store);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_TRUE(fs.fired());
  store = testing::OpenWith(SmallStore(dir.path(), &fs, FsyncPolicy::kNever));
  EXPECT_EQ(store->recovery().torn_tail_bytes, 3u);
  EXPECT_GE(store->stats().fsyncs, 1u);  // the truncated tail was made durable
  EXPECT_TRUE(SyncCountsConverge(fs, *store));
  EXPECT_EQ(GetValue(store.get(), "a"), "1");
}

// What each key may hold: its last acknowledged value, or that of any later write that
// failed (a write whose fdatasync failed is in the log although it returned an error).
using Outcomes = std::map<std::string, std::set<std::string>>;

// Puts, overwrites and deletes over many small segments (rollovers, the spare, hints from
// the maintenance thread) and two compactions. Returns how many calls failed.
int Workload(LogStore* store, Outcomes* may_hold) {
  int failures = 0;
  auto record = [&](const std::string& key, const std::string& value, const Status& s) {
    auto& set = (*may_hold)[key];
    if (set.empty()) set.insert(kAbsent);
    if (s.ok()) set.clear();
    set.insert(value);
    failures += !s.ok();
  };
  for (int i = 0; i < 120; ++i) {
    const std::string key = "k" + std::to_string(i % 25);
    if (i % 7 == 6) {
      WriteResult r;
      Status s = store->Delete(key, &r);
      if (s.IsNotFound()) {
        const auto& set = (*may_hold)[key];
        EXPECT_TRUE(set.empty() || set.contains(kAbsent)) << key;
        s = Status::OK();
      }
      record(key, kAbsent, s);
    } else {
      const std::string value = "v" + std::to_string(i) + std::string(i % 40, 'x');
      record(key, value, testing::PutValue(store, key, value));
    }
    if (i == 60 || i == 119) failures += !store->Compact().ok();
  }
  return failures;
}

struct Mode {
  const char* name;
  FsyncPolicy fsync;
  bool pwrite_appends;  // refuse writable mappings: every append is a File::Pwrite
};

class FailNthOperationTest : public ::testing::TestWithParam<Mode> {};

// For N = 1, 2, ...: the Nth file operation of the store (on any thread, Open excluded,
// close included) fails. The store must answer with an error, never crash; after reopening
// on the real file system every acknowledged write is there and nothing is damaged.
TEST_P(FailNthOperationTest, EveryAcknowledgedWriteSurvives) {
  const Mode mode = GetParam();
  int failed_calls = 0;
  uint64_t n = 1;
  for (;; ++n) {
    SCOPED_TRACE("fail file operation " + std::to_string(n));
    TempDir dir;
    Outcomes may_hold;
    bool fired;
    {
      FaultFileSystem fs;
      fs.set_refuse_writable_maps(mode.pwrite_appends);
      fs.set_skip_syncs(true);  // no crash here: the order of operations is what matters
      auto store = testing::OpenWith(SmallStore(dir.path(), &fs, mode.fsync));
      ASSERT_NE(store, nullptr);
      fs.FailNth(n);
      failed_calls += Workload(store.get(), &may_hold);
      store.reset();
      fired = fs.fired();
    }
    auto store = testing::OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    for (const auto& [key, values] : may_hold) {
      const std::string got = GetValue(store.get(), key);
      EXPECT_TRUE(values.contains(got)) << key << " holds " << got;
    }
    EXPECT_EQ(store->recovery().corrupt_bytes_skipped, 0u);
    EXPECT_EQ(store->recovery().torn_tail_bytes, 0u);
    store.reset();
    CheckReport report;
    Status s = CheckDataDir(dir.path(), &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!fired) break;  // the workload made fewer than n operations
    if (::testing::Test::HasFailure()) break;
  }
  std::printf("%s: failed each of file operations 1..%llu in turn\n", mode.name,
              static_cast<unsigned long long>(n));
  EXPECT_GT(n, 100u);
  EXPECT_GT(failed_calls, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, FailNthOperationTest,
                         ::testing::Values(Mode{"MappedNever", FsyncPolicy::kNever, false},
                                           Mode{"PwriteAlways", FsyncPolicy::kAlways, true}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace httpkv::storage
