// Preallocated segments (FORMAT.md "Preallocation"): recovery tells the zero tail (free
// space) from a torn record and from mid-file damage; crashes around preallocation and
// rollover lose nothing; a record larger than a segment gets a segment of its own.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "storage/check.h"
#include "storage/log_store.h"
#include "storage/record.h"
#include "storage/segment.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FileExists;
using testing::FileSize;
using testing::GetValue;
using testing::OpenOrDie;
using testing::OpenWith;
using testing::PutValue;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::string Record(uint64_t seq, std::string_view key, std::string_view value) {
  std::string out;
  EncodeRecord(RecordType::kPut, seq, key, value, &out);
  return out;
}

// Three records k1..k3 (seq 1..3) written by the store; returns their bytes.
std::string WriteThree(const TempDir& dir) {
  auto store = OpenOrDie(dir.path());
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(PutValue(store.get(), "k" + std::to_string(i), "value-" + std::to_string(i)).ok());
  }
  store.reset();
  return ReadFile(dir.log_path());
}

void ExpectThree(const LogStore* store) {
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(GetValue(store, "k" + std::to_string(i)), "value-" + std::to_string(i));
  }
}

TEST(PreallocationTest, ZeroTailIsFreeSpace) {
  TempDir dir;
  const std::string good = WriteThree(dir);
  WriteFile(dir.log_path(), good + std::string(5000, '\0'));
  {
    auto store = OpenOrDie(dir.path());
    EXPECT_TRUE(store->recovery().warnings.empty());
    EXPECT_EQ(store->recovery().torn_tail_bytes, 0u);
    EXPECT_EQ(store->stats().disk_bytes, good.size());        // records, not the file size
    EXPECT_EQ(FileSize(dir.log_path()), good.size() + 5000);  // free space kept
    ExpectThree(store.get());
    ASSERT_TRUE(PutValue(store.get(), "k4", "after the tail").ok());  // lands at good.size()
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_TRUE(store->recovery().warnings.empty());
  EXPECT_EQ(store->recovery().records, 4u);
  ExpectThree(store.get());
  EXPECT_EQ(GetValue(store.get(), "k4"), "after the tail");
  CheckReport rep;
  store.reset();
  EXPECT_TRUE(CheckDataDir(dir.path(), &rep).ok());
  EXPECT_EQ(rep.damaged_bytes, 0u);
}

// A crash right after a spare became the active segment: an all-zero file (whole, or
// half-written when zero-filling was cut short), newest and without a hint.
TEST(PreallocationTest, AllZeroAndHalfZeroedSegmentsAreEmpty) {
  for (const size_t zeros : {size_t{64} << 10, size_t{1000}, size_t{0}}) {
    SCOPED_TRACE("zeros " + std::to_string(zeros));
    TempDir dir;
    WriteThree(dir);
    WriteFile(dir.path() + "/00000002.log", std::string(zeros, '\0'));
    WriteFile(dir.path() + "/" + std::string(kSpareSegment), std::string(zeros / 2, '\0'));
    {
      auto store = OpenOrDie(dir.path());
      EXPECT_TRUE(store->recovery().warnings.empty());
      EXPECT_FALSE(FileExists(dir.path() + "/" + std::string(kSpareSegment)));
      ExpectThree(store.get());
      ASSERT_TRUE(PutValue(store.get(), "k4", "in segment 2").ok());
    }
    EXPECT_EQ(ReadFile(dir.path() + "/00000002.log").substr(0, 4),
              Record(4, "k4", "in segment 2").substr(0, 4));
    auto store = OpenOrDie(dir.path());
    EXPECT_TRUE(store->recovery().warnings.empty());
    ExpectThree(store.get());
    EXPECT_EQ(GetValue(store.get(), "k4"), "in segment 2");
  }
}

// A crash in the middle of an append into the preallocated tail: part of the record, then
// the zeros that were there before.
TEST(PreallocationTest, TornRecordFollowedByZerosIsCut) {
  TempDir dir;
  const std::string good = WriteThree(dir);
  const std::string rec = Record(4, "k4", std::string(3000, 'x'));
  for (const size_t kept : {size_t{3}, size_t{20}, size_t{100}, rec.size() - 1}) {
    SCOPED_TRACE("kept " + std::to_string(kept));
    WriteFile(dir.log_path(), good + rec.substr(0, kept) + std::string(8192, '\0'));
    auto store = OpenOrDie(dir.path());
    const RecoveryReport& rep = store->recovery();
    EXPECT_EQ(rep.records, 3u);
    ASSERT_EQ(rep.warnings.size(), 1u);
    const uint64_t dropped = kept < kRecordHeaderSize ? kRecordHeaderSize : rec.size();
    EXPECT_EQ(rep.warnings[0], "00000001.log: torn tail at offset " + std::to_string(good.size()) +
                                   ", dropped " + std::to_string(dropped) + " bytes");
    EXPECT_EQ(rep.torn_tail_bytes, dropped);
    EXPECT_EQ(FileSize(dir.log_path()), good.size());  // cut back to the last good record
    ExpectThree(store.get());
    EXPECT_EQ(GetValue(store.get(), "k4"), "<NotFound>");
  }
}

// Zeros where records should be, followed by valid records: damage, not free space.
TEST(PreallocationTest, ZeroRunInTheMiddleIsDamage) {
  TempDir dir;
  const std::string good = WriteThree(dir);
  const std::string hole(500, '\0');
  WriteFile(dir.log_path(), good + hole + Record(4, "k4", "after the hole"));
  auto store = OpenOrDie(dir.path());
  const RecoveryReport& rep = store->recovery();
  EXPECT_EQ(rep.records, 4u);
  EXPECT_EQ(rep.corrupt_bytes_skipped, hole.size());
  EXPECT_EQ(rep.torn_tail_bytes, 0u);
  ASSERT_EQ(rep.warnings.size(), 1u);
  EXPECT_EQ(rep.warnings[0], "00000001.log: corrupt record at offset " +
                                 std::to_string(good.size()) + ", skipped 500 bytes");
  ExpectThree(store.get());
  EXPECT_EQ(GetValue(store.get(), "k4"), "after the hole");
}

// A crash after the next segment was created but before the sealed one was cut to size.
TEST(PreallocationTest, SealedSegmentZeroTailIsTruncatedAtOpen) {
  TempDir dir;
  const std::string good = WriteThree(dir);
  WriteFile(dir.log_path(), good + std::string(4096, '\0'));
  WriteFile(dir.path() + "/00000002.log", Record(4, "k4", "v4"));
  {
    auto store = OpenOrDie(dir.path());
    EXPECT_TRUE(store->recovery().warnings.empty());
    EXPECT_EQ(FileSize(dir.log_path()), good.size());
    ExpectThree(store.get());
    EXPECT_EQ(GetValue(store.get(), "k4"), "v4");
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_TRUE(store->recovery().warnings.empty());  // a hint written meanwhile matches
  EXPECT_EQ(FileSize(dir.log_path()), good.size());
  ExpectThree(store.get());
}

Options Small(const std::string& dir) {
  Options opts;
  opts.dir = dir;
  opts.fsync = FsyncPolicy::kNever;
  opts.segment_bytes = 64 << 10;
  opts.compact_dead_ratio = 1.0;
  return opts;
}

bool WaitFor(const std::function<bool()>& cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Past half of the active segment the maintenance thread zero-fills a spare; the rollover
// renames it into place, so the new active segment is preallocated whole.
TEST(PreallocationTest, RolloverUsesTheZeroFilledSpare) {
  TempDir dir;
  const Options opts = Small(dir.path());
  auto store = OpenWith(opts);
  const std::string value(1000, 'v');
  int i = 0;
  while (store->stats().disk_bytes < opts.segment_bytes / 2 + 2000) {
    ASSERT_TRUE(PutValue(store.get(), "k" + std::to_string(i++), value).ok());
  }
  const std::string spare = dir.path() + "/" + std::string(kSpareSegment);
  ASSERT_TRUE(WaitFor([&] { return store->stats().spares_prepared == 1; }));
  EXPECT_EQ(FileSize(spare), opts.segment_bytes);
  while (store->stats().segments < 2) {
    ASSERT_TRUE(PutValue(store.get(), "k" + std::to_string(i++), value).ok());
  }
  EXPECT_EQ(FileSize(dir.path() + "/00000002.log"), opts.segment_bytes);  // preallocated
  EXPECT_LT(FileSize(dir.log_path()), opts.segment_bytes);                // sealed: cut to size
  store.reset();
  EXPECT_FALSE(FileExists(spare));  // a clean close leaves no spare behind
  store = OpenWith(opts);
  EXPECT_TRUE(store->recovery().warnings.empty());
  for (int k = 0; k < i; ++k) EXPECT_EQ(GetValue(store.get(), "k" + std::to_string(k)), value);
}

TEST(PreallocationTest, RecordLargerThanASegmentGetsItsOwn) {
  TempDir dir;
  const Options opts = Small(dir.path());
  const std::string big(3 * opts.segment_bytes, 'B');
  {
    auto store = OpenWith(opts);
    ASSERT_TRUE(PutValue(store.get(), "small", "s").ok());
    ASSERT_TRUE(PutValue(store.get(), "big", big).ok());
    ASSERT_TRUE(PutValue(store.get(), "after", "a").ok());
    EXPECT_EQ(GetValue(store.get(), "big"), big);
    EXPECT_EQ(store->stats().segments, 3u);
  }
  auto store = OpenWith(opts);
  EXPECT_TRUE(store->recovery().warnings.empty());
  EXPECT_EQ(GetValue(store.get(), "small"), "s");
  EXPECT_EQ(GetValue(store.get(), "big"), big);
  EXPECT_EQ(GetValue(store.get(), "after"), "a");
}

}  // namespace
}  // namespace httpkv::storage
