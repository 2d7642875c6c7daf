// Compaction: reclaims dead records, never loses or resurrects one — also when it is
// interrupted at any step (simulated crash: stop, destroy, reopen).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "storage/log_store.h"
#include "storage/record_scanner.h"
#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FileExists;
using testing::GetValue;
using testing::OpenWith;
using testing::TempDir;

Options SmallSegments(const std::string& dir) {
  Options opts;
  opts.dir = dir;
  opts.fsync = FsyncPolicy::kNever;
  opts.segment_bytes = 2048;
  opts.compact_dead_ratio = 1.0;  // tests trigger compaction explicitly
  return opts;
}

// Applies writes to the store and to an expected-state model.
struct Model {
  std::map<std::string, std::optional<std::string>> want;

  void Put(LogStore* s, const std::string& k, const std::string& v) {
    ASSERT_TRUE(s->Put(k, v, Precondition::kNone, 0, nullptr).ok());
    want[k] = v;
  }
  void Del(LogStore* s, const std::string& k) {
    ASSERT_TRUE(s->Delete(k, nullptr).ok());
    want[k] = std::nullopt;
  }
  void Check(const LogStore* s) const {
    uint64_t live = 0;
    for (const auto& [k, v] : want) {
      EXPECT_EQ(GetValue(s, k), v ? *v : "<NotFound>") << k;
      live += v.has_value();
    }
    EXPECT_EQ(s->stats().keys, live);
  }
  // Overwrites and deletes spread over many segments.
  void Workload(LogStore* s, int round) {
    for (int i = 0; i < 60; ++i) {
      Put(s, "k" + std::to_string(i), "r" + std::to_string(round) + "-" + std::string(i % 30, 'v'));
    }
    for (int i = round % 3; i < 60; i += 7) Del(s, "k" + std::to_string(i));
  }
};

// The spare segment (zero-filled ahead of the next rollover) is not a compaction leftover.
size_t CountFiles(const std::string& dir, const std::string& suffix) {
  size_t n = 0;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    const std::string name = de.path().filename().string();
    n += name.ends_with(suffix) && name != kSpareSegment;
  }
  return n;
}

TEST(CompactionTest, DropsDeadRecordsAndKeepsLatest) {
  TempDir dir;
  Model m;
  auto store = OpenWith(SmallSegments(dir.path()));
  for (int r = 0; r < 4; ++r) m.Workload(store.get(), r);
  const Stats before = store->stats();
  ASSERT_GT(before.dead_bytes, before.live_bytes);
  ASSERT_TRUE(store->Compact().ok());
  const Stats after = store->stats();
  EXPECT_EQ(after.compactions, 1u);
  EXPECT_LT(after.disk_bytes, before.disk_bytes / 2);
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_LT(after.segments, before.segments);
  m.Check(store.get());
  EXPECT_EQ(CountFiles(dir.path(), ".tmp"), 0u);
  EXPECT_FALSE(FileExists(dir.path() + "/COMPACT"));

  m.Workload(store.get(), 9);  // the store keeps working on top of the outputs
  store.reset();
  store = OpenWith(SmallSegments(dir.path()));
  EXPECT_TRUE(store->recovery().warnings.empty());
  EXPECT_GE(store->recovery().segments_from_hints, 1u);
  m.Check(store.get());
  ASSERT_TRUE(store->Compact().ok());  // compacting former outputs again
  m.Check(store.get());
  store.reset();
  store = OpenWith(SmallSegments(dir.path()));
  m.Check(store.get());
}

// Issue 12 item 5 at small scale: overwrites and deletes that all sit in the active segment.
// 600 PUTs of 4 KiB to 10 keys (2.4 MiB, one segment of 4 MiB), then all 10 deleted.
uint64_t RecordBytesOnDisk(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    if (de.path().extension() == ".log") n += UsedLength(testing::ReadFile(de.path().string()));
  }
  return n;  // zero tails (preallocated free space) excluded
}

Options OneBigSegment(const std::string& dir, double ratio) {
  Options opts = SmallSegments(dir);
  opts.segment_bytes = 4 << 20;
  opts.compact_dead_ratio = ratio;
  return opts;
}

void OverwriteTenKeys(Model* m, LogStore* s) {
  const std::string value(4096, 'v');
  for (int i = 0; i < 600; ++i) m->Put(s, "k" + std::to_string(i % 10), value);
}

TEST(CompactionTest, ReclaimsDeadBytesInTheActiveSegment) {
  TempDir dir;
  Model m;
  auto store = OpenWith(OneBigSegment(dir.path(), 1.0));
  OverwriteTenKeys(&m, store.get());
  for (int i = 0; i < 10; ++i) m.Del(store.get(), "k" + std::to_string(i));
  ASSERT_GT(RecordBytesOnDisk(dir.path()), 2u << 20);
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_EQ(store->stats().disk_bytes, 0u);
  EXPECT_EQ(store->stats().live_bytes, 0u);
  EXPECT_EQ(RecordBytesOnDisk(dir.path()), 0u);  // the data dir holds no records any more
  m.Put(store.get(), "after", "compaction");
  store.reset();
  store = OpenWith(OneBigSegment(dir.path(), 1.0));
  EXPECT_TRUE(store->recovery().warnings.empty());
  m.Check(store.get());
}

// The automatic trigger fires on writes too (no rollover happens here).
TEST(CompactionTest, AutomaticCompactionReclaimsTheActiveSegment) {
  TempDir dir;
  Model m;
  auto store = OpenWith(OneBigSegment(dir.path(), 0.5));
  OverwriteTenKeys(&m, store.get());
  store->TEST_WaitIdle();  // the compaction the writes asked for has run
  ASSERT_GE(store->stats().compactions, 1u);
  const Stats st = store->stats();
  EXPECT_LT(st.disk_bytes, 1u << 20);  // of 2.4 MiB written
  EXPECT_LE(RecordBytesOnDisk(dir.path()), st.disk_bytes);
  m.Check(store.get());
}

TEST(CompactionTest, TombstoneForKeyInOlderSegmentStaysDeleted) {
  TempDir dir;
  Model m;
  auto store = OpenWith(SmallSegments(dir.path()));
  m.Put(store.get(), "victim", "old");
  for (int r = 0; r < 2; ++r) m.Workload(store.get(), r);
  m.Del(store.get(), "victim");
  for (int r = 2; r < 4; ++r) m.Workload(store.get(), r);
  ASSERT_TRUE(store->Compact().ok());
  store.reset();
  store = OpenWith(SmallSegments(dir.path()));
  m.Check(store.get());
}

TEST(CompactionTest, WritesDuringCompactionWin) {
  TempDir dir;
  Model m;
  LogStore* raw = nullptr;
  testing::FaultFileSystem fs;
  // Runs inside the compaction as it creates its commit marker, after it copied the
  // then-live records and wrote their hints.
  std::atomic<bool> wrote{false};
  fs.SetHook([&](testing::FsOp op, const std::string& path) {
    if (op == testing::FsOp::kCreate && path.ends_with("/COMPACT.tmp") && !wrote.exchange(true)) {
      m.Del(raw, "k1");
      m.Put(raw, "k2", "newer");
      m.Put(raw, "k4", "newer-too");
    }
    return Status::OK();
  });
  Options opts = SmallSegments(dir.path());
  opts.fs = &fs;
  auto store = OpenWith(opts);
  raw = store.get();
  for (int r = 0; r < 3; ++r) m.Workload(store.get(), r);
  m.Put(store.get(), "k1", "live-at-copy");
  m.Put(store.get(), "k2", "live-at-copy");
  m.Workload(store.get(), 3);  // seal the above
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_TRUE(wrote.load());
  m.Check(store.get());
  store.reset();
  opts.fs = FileSystem::Default();
  store = OpenWith(opts);
  m.Check(store.get());
  ASSERT_TRUE(store->Compact().ok());
  m.Check(store.get());
}

// Simulated crash at every step: the Nth file operation the compaction makes (create, write,
// sync, truncate, rename, unlink, directory sync — sealing the active segment, which holds
// the workload's tombstones, included) fails, which stops the compaction there; the store
// keeps taking writes, then it is destroyed and reopened on the real file system. Nothing
// may be lost or resurrected. N runs until the compaction makes fewer than N operations.
TEST(CompactionTest, CrashAtEveryStepLosesNothing) {
  int failed_compactions = 0;
  uint64_t n = 1;
  for (;; ++n) {
    SCOPED_TRACE("fail file operation " + std::to_string(n));
    TempDir dir;
    Model m;
    testing::FaultFileSystem fs;
    fs.set_skip_syncs(true);  // the process does not crash: real syncs would only be slow
    Options opts = SmallSegments(dir.path());
    opts.fs = &fs;
    auto store = OpenWith(opts);
    for (int r = 0; r < 4; ++r) m.Workload(store.get(), r);
    // Only this thread's operations: the maintenance thread's hints and spare do not count.
    fs.FailNth(n, std::nullopt, std::this_thread::get_id());
    Status s = store->Compact();
    const bool fired = fs.fired();
    fs.FailNth(0);
    if (!fired) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      break;
    }
    failed_compactions += !s.ok();
    m.Workload(store.get(), 7);
    m.Check(store.get());
    store.reset();

    opts.fs = FileSystem::Default();
    store = OpenWith(opts);
    m.Check(store.get());
    // (A hint being written by the maintenance thread may briefly exist as .hint.tmp.)
    EXPECT_EQ(CountFiles(dir.path(), ".log.tmp"), 0u);
    EXPECT_FALSE(FileExists(dir.path() + "/COMPACT"));
    // Disk usage is back to what a finished compaction (>= step 3) or none (< 3) leaves.
    ASSERT_TRUE(store->Compact().ok());
    m.Workload(store.get(), 8);
    store.reset();
    store = OpenWith(opts);
    m.Check(store.get());
    EXPECT_TRUE(store->recovery().warnings.empty()) << store->recovery().warnings[0];
  }
  // Sealing, outputs, hints, marker, renames, unlinks: dozens of operations, and a failure
  // in almost every one of them stops the compaction.
  std::printf("compaction made %llu file operations\n", static_cast<unsigned long long>(n - 1));
  EXPECT_GT(n, 20u);
  EXPECT_GT(failed_compactions, 15);
}

TEST(CompactionTest, ReadersAndWritersRunDuringCompaction) {
  TempDir dir;
  auto store = OpenWith(SmallSegments(dir.path()));
  constexpr int kKeys = 200;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(testing::PutValue(store.get(), "k" + std::to_string(i), "0").ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  // Writer: counts up every key; values only grow.
  std::thread writer([&] {
    for (int round = 1; !stop; ++round) {
      for (int i = 0; i < kKeys; ++i) {
        if (!testing::PutValue(store.get(), "k" + std::to_string(i), std::to_string(round)).ok()) {
          errors++;
        }
      }
    }
  });
  std::thread reader([&] {
    std::string v;
    while (!stop) {
      for (int i = 0; i < kKeys; i += 7) {
        if (!store->Get("k" + std::to_string(i), &v, nullptr).ok() || v.empty()) errors++;
      }
      int n = 0;
      if (!store->Scan({}, [&](auto, auto) { return ++n > 0; }).ok() || n != kKeys) errors++;
    }
  });
  for (int c = 0; c < 10; ++c) ASSERT_TRUE(store->Compact().ok());
  stop = true;
  writer.join();
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(store->stats().compactions, 10u);
}

TEST(CompactionTest, AutomaticAndRequestedCompaction) {
  TempDir dir;
  Options opts = SmallSegments(dir.path());
  opts.compact_dead_ratio = 0.5;
  auto store = OpenWith(opts);
  Model m;
  for (int r = 0; r < 10; ++r) m.Workload(store.get(), r);
  store->TEST_WaitIdle();  // the compactions the writes asked for have run
  EXPECT_GE(store->stats().compactions, 1u);
  const uint64_t n = store->stats().compactions;
  m.Workload(store.get(), 11);
  store->RequestCompaction();
  store->TEST_WaitIdle();
  EXPECT_GT(store->stats().compactions, n);
  m.Check(store.get());
}

}  // namespace
}  // namespace httpkv::storage
