#include <gtest/gtest.h>

#include <random>

#include "storage/log_store.h"
#include "storage/record.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FileSize;
using testing::GetValue;
using testing::OpenOrDie;
using testing::PutValue;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

bool HasWarning(const RecoveryReport& rep, const std::string& needle) {
  for (const auto& w : rep.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(RecoveryTest, TornTailAtEveryOffsetOfLastRecord) {
  TempDir dir;
  uint64_t last_start;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(PutValue(store.get(), "a", "alpha").ok());
    ASSERT_TRUE(PutValue(store.get(), "b", "bravo").ok());
    last_start = store->stats().disk_bytes;
    ASSERT_TRUE(PutValue(store.get(), "c", "charlie-value").ok());
  }
  const std::string full = ReadFile(dir.log_path());
  for (uint64_t cut = last_start + 1; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteFile(dir.log_path(), full.substr(0, cut));
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(store != nullptr);
    const RecoveryReport& rep = store->recovery();
    EXPECT_EQ(rep.records, 2u);
    EXPECT_EQ(rep.torn_tail_bytes, cut - last_start);
    EXPECT_EQ(rep.corrupt_bytes_skipped, 0u);
    EXPECT_TRUE(HasWarning(rep, "00000001.log: torn tail at offset " + std::to_string(last_start) +
                                    ", dropped " + std::to_string(cut - last_start) + " bytes"));
    EXPECT_EQ(FileSize(dir.log_path()), last_start);  // truncated on disk
    EXPECT_EQ(GetValue(store.get(), "a"), "alpha");
    EXPECT_EQ(GetValue(store.get(), "b"), "bravo");
    EXPECT_EQ(GetValue(store.get(), "c"), "<NotFound>");
  }
  // Appends continue cleanly after the cut and survive another reopen.
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(PutValue(store.get(), "c", "again").ok());
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_TRUE(store->recovery().warnings.empty());
  EXPECT_EQ(GetValue(store.get(), "c"), "again");
}

// Writes x=old, filler, x=new (the record that gets damaged), then later records.
class MidFileCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenOrDie(dir_.path());
    ASSERT_TRUE(PutValue(store.get(), "x", "old-value").ok());
    ASSERT_TRUE(PutValue(store.get(), "f", "filler").ok());
    bad_start_ = store->stats().disk_bytes;
    ASSERT_TRUE(PutValue(store.get(), "x", "new-value").ok());
    bad_end_ = store->stats().disk_bytes;
    ASSERT_TRUE(PutValue(store.get(), "y", "yankee").ok());
    ASSERT_TRUE(PutValue(store.get(), "z", "zulu").ok());
    store.reset();
    good_ = ReadFile(dir_.log_path());
  }

  TempDir dir_;
  uint64_t bad_start_ = 0, bad_end_ = 0;
  std::string good_;
};

TEST_F(MidFileCorruptionTest, FlippedValueByteSkipsOnlyThatRecord) {
  std::string bad = good_;
  bad[bad_end_ - 2] ^= 0x01;
  WriteFile(dir_.log_path(), bad);
  auto store = OpenOrDie(dir_.path());
  const RecoveryReport& rep = store->recovery();
  EXPECT_EQ(rep.corrupt_bytes_skipped, bad_end_ - bad_start_);
  EXPECT_EQ(rep.torn_tail_bytes, 0u);
  EXPECT_EQ(rep.records, 4u);
  EXPECT_TRUE(HasWarning(rep, "00000001.log: corrupt record at offset " +
                                  std::to_string(bad_start_) + ", skipped " +
                                  std::to_string(bad_end_ - bad_start_) + " bytes"));
  EXPECT_EQ(GetValue(store.get(), "x"), "old-value");  // previous good version, never garbage
  EXPECT_EQ(GetValue(store.get(), "y"), "yankee");
  EXPECT_EQ(GetValue(store.get(), "z"), "zulu");
  EXPECT_EQ(FileSize(dir_.log_path()), good_.size());  // mid-file damage is not truncated
}

TEST_F(MidFileCorruptionTest, EveryByteOfTheRecord) {
  for (uint64_t pos = bad_start_; pos < bad_end_; ++pos) {
    SCOPED_TRACE("flipped byte at " + std::to_string(pos));
    std::string bad = good_;
    bad[pos] ^= 0x40;
    WriteFile(dir_.log_path(), bad);
    // A sane header claiming a record past EOF is indistinguishable from an interrupted
    // append, so that case is (by design, see FORMAT.md) a torn tail.
    RecordHeader h;
    const bool past_eof =
        ParseHeader(bad.data() + bad_start_, kRecordHeaderSize, &h) == DecodeStatus::kOk &&
        bad_start_ + h.record_size() > bad.size();
    auto store = OpenOrDie(dir_.path());
    const RecoveryReport& rep = store->recovery();
    EXPECT_EQ(GetValue(store.get(), "x"), "old-value");
    EXPECT_EQ(GetValue(store.get(), "f"), "filler");
    if (past_eof) {
      EXPECT_EQ(rep.torn_tail_bytes, good_.size() - bad_start_);
      EXPECT_EQ(FileSize(dir_.log_path()), bad_start_);
    } else {
      EXPECT_EQ(rep.corrupt_bytes_skipped, bad_end_ - bad_start_);
      EXPECT_EQ(GetValue(store.get(), "y"), "yankee");
      EXPECT_EQ(GetValue(store.get(), "z"), "zulu");
      EXPECT_EQ(FileSize(dir_.log_path()), good_.size());
    }
  }
}

TEST_F(MidFileCorruptionTest, DamagedFirstRecordAndSeqContinues) {
  std::string bad = good_;
  bad[kRecordHeaderSize + 2] ^= 0x01;  // x=old-value
  WriteFile(dir_.log_path(), bad);
  auto store = OpenOrDie(dir_.path());
  EXPECT_EQ(store->recovery().corrupt_bytes_skipped, RecordSize(1, 9));
  EXPECT_EQ(GetValue(store.get(), "x"), "new-value");
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "w", "v", &r).ok());
  EXPECT_EQ(r.version, 6u);  // five records written before, seq continues from the max
}

// Zeros after a record boundary are free space, not garbage: preallocation_test.cc.
TEST(RecoveryTest, GarbageAfterValidRecordsIsCut) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(PutValue(store.get(), "k" + std::to_string(i), "v").ok());
    }
  }
  std::string data = ReadFile(dir.log_path());
  const size_t good = data.size();
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(rng() | 1));  // no zeros
  WriteFile(dir.log_path(), data);
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->recovery().records, 10u);
  EXPECT_EQ(store->recovery().torn_tail_bytes, 1000u);
  EXPECT_EQ(FileSize(dir.log_path()), good);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(GetValue(store.get(), "k" + std::to_string(i)), "v");
}

TEST(RecoveryTest, RecordShapedValueInTornTailIsNotResurrected) {
  TempDir dir;
  std::string embedded;
  EncodeRecord(RecordType::kPut, 1000, "evil", "injected", &embedded);
  uint64_t start;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(PutValue(store.get(), "a", "alpha").ok());
    start = store->stats().disk_bytes;
    ASSERT_TRUE(PutValue(store.get(), "big", "prefix" + embedded + "suffix-bytes").ok());
  }
  std::string data = ReadFile(dir.log_path());
  data.resize(data.size() - 3);  // crash before the last bytes reached the disk
  WriteFile(dir.log_path(), data);
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(GetValue(store.get(), "evil"), "<NotFound>");
  EXPECT_EQ(GetValue(store.get(), "big"), "<NotFound>");
  EXPECT_EQ(store->recovery().torn_tail_bytes, data.size() - start);
}

TEST(RecoveryTest, EmptyAndMissingLog) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->recovery().records, 0u);
  EXPECT_EQ(store->recovery().bytes_scanned, 0u);
  EXPECT_GE(store->recovery().seconds, 0.0);
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "k", "v", &r).ok());
  EXPECT_EQ(r.version, 1u);
}

}  // namespace
}  // namespace httpkv::storage
