// Offline --check / --repair of a data directory.
#include "storage/check.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "storage/log_store.h"
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
  opts.segment_bytes = 1024;
  opts.compact_dead_ratio = 1.0;
  return opts;
}

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenWith(SmallSegments(dir_.path()));
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(testing::PutValue(store.get(), "key" + std::to_string(i), Value(i)).ok());
    }
    // Every sealed segment gets its hint from the maintenance thread.
    char last_sealed[32];
    std::snprintf(last_sealed, sizeof(last_sealed), "/%08d.hint",
                  static_cast<int>(store->stats().segments) - 1);
    store->TEST_WaitIdle();
    ASSERT_TRUE(FileExists(dir_.path() + last_sealed));
    ASSERT_TRUE(FileExists(dir_.path() + "/00000001.hint"));
  }
  static std::string Value(int i) { return "value-" + std::to_string(i) + std::string(50, 'v'); }
  std::string Path(const char* name) const { return dir_.path() + "/" + name; }

  TempDir dir_;
};

TEST_F(CheckTest, CleanDirPasses) {
  CheckReport rep;
  Status s = CheckDataDir(dir_.path(), &rep);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rep.records, 40u);
  EXPECT_EQ(rep.damaged_bytes, 0u);
  EXPECT_GE(rep.segments.size(), 3u);
  EXPECT_TRUE(rep.notes.empty());
  EXPECT_TRUE(rep.segments[0].hint_valid);
}

TEST_F(CheckTest, BusyWhileStoreIsOpen) {
  auto store = OpenWith(SmallSegments(dir_.path()));
  CheckReport rep;
  EXPECT_EQ(CheckDataDir(dir_.path(), &rep).code(), Status::Code::kBusy);
  EXPECT_EQ(RepairDataDir(dir_.path(), &rep).code(), Status::Code::kBusy);
}

TEST_F(CheckTest, FindsAndRepairsDamage) {
  // Flip a value byte of the second record in segment 1, and append garbage to segment 2.
  std::string seg1 = testing::ReadFile(Path("00000001.log"));
  const size_t rec = RecordSize(4, Value(0).size());
  seg1[rec + 40] ^= 0x01;
  testing::WriteFile(Path("00000001.log"), seg1);
  std::string seg2 = testing::ReadFile(Path("00000002.log"));
  testing::WriteFile(Path("00000002.log"), seg2 + "garbage!garbage!garbage!");

  CheckReport rep;
  Status s = CheckDataDir(dir_.path(), &rep);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  ASSERT_EQ(rep.segments[0].damaged.size(), 1u);
  EXPECT_EQ(rep.segments[0].damaged[0].offset, rec);
  EXPECT_EQ(rep.segments[0].damaged[0].length, rec);
  EXPECT_FALSE(rep.segments[0].damaged[0].torn_tail);
  ASSERT_EQ(rep.segments[1].damaged.size(), 1u);
  EXPECT_EQ(rep.segments[1].damaged[0].length, 24u);
  EXPECT_FALSE(rep.segments[1].hint_valid);  // its hint no longer matches the file size
  EXPECT_EQ(rep.records, 39u);
  EXPECT_EQ(testing::ReadFile(Path("00000001.log")), seg1);  // check is read-only

  s = RepairDataDir(dir_.path(), &rep);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(rep.segments[0].repaired);
  EXPECT_TRUE(rep.segments[1].repaired);
  s = CheckDataDir(dir_.path(), &rep);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(rep.notes.empty());
  EXPECT_EQ(rep.records, 39u);

  auto store = OpenWith(SmallSegments(dir_.path()));
  EXPECT_TRUE(store->recovery().warnings.empty());
  EXPECT_EQ(store->recovery().segments_from_hints, store->recovery().segments - 1);
  EXPECT_EQ(GetValue(store.get(), "key1"), "<NotFound>");  // its only record was damaged
  for (int i = 0; i < 40; ++i) {
    if (i != 1) {
      EXPECT_EQ(GetValue(store.get(), "key" + std::to_string(i)), Value(i)) << i;
    }
  }
}

TEST_F(CheckTest, RepairResolvesCompactionLeftovers) {
  testing::WriteFile(Path("00000099.log.tmp"), "half-written compaction output");
  CheckReport rep;
  EXPECT_TRUE(CheckDataDir(dir_.path(), &rep).ok());
  ASSERT_EQ(rep.notes.size(), 1u);
  EXPECT_TRUE(RepairDataDir(dir_.path(), &rep).ok());
  EXPECT_FALSE(FileExists(Path("00000099.log.tmp")));
  EXPECT_EQ(CheckDataDir(dir_.path(), &rep).ok(), true);
  EXPECT_TRUE(rep.notes.empty());
}

TEST(CheckMissingDirTest, IsInvalidArgument) {
  CheckReport rep;
  EXPECT_EQ(CheckDataDir("/nonexistent/httpkv", &rep).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace httpkv::storage
