// Segment rollover and hint files.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/log_store.h"
#include "storage/record.h"
#include "storage/record_scanner.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FileExists;
using testing::FileSize;
using testing::GetValue;
using testing::OpenWith;
using testing::PutValue;
using testing::TempDir;

Options SmallSegments(const std::string& dir) {
  Options opts;
  opts.dir = dir;
  opts.fsync = FsyncPolicy::kNever;
  opts.segment_bytes = 1024;
  opts.compact_dead_ratio = 1.0;  // no automatic compaction
  return opts;
}

std::string Seg(const std::string& dir, int id, const char* ext = "log") {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "/%08d.%s", id, ext);
  return dir + buf;
}

// Hints are written by the maintenance thread: once it is idle, path must exist.
bool WaitForHint(LogStore* store, const std::string& path) {
  store->TEST_WaitIdle();
  return FileExists(path);
}

void Fill(LogStore* store, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(PutValue(store, "key" + std::to_string(i), tag + std::string(60, 'x')).ok());
  }
}

TEST(SegmentTest, RollsOverAtSegmentBytes) {
  TempDir dir;
  auto store = OpenWith(SmallSegments(dir.path()));
  Fill(store.get(), 40, "a");  // 40 records of ~85 bytes: several 1 KiB segments
  const Stats st = store->stats();
  EXPECT_GE(st.segments, 4u);
  uint64_t total = 0;
  for (uint32_t id = 1; id <= st.segments; ++id) {
    const uint64_t size = FileSize(Seg(dir.path(), static_cast<int>(id)));
    EXPECT_LE(size, 1024u) << id;
    // Records only: the active segment may be a preallocated (zero-tailed) spare.
    total += UsedLength(testing::ReadFile(Seg(dir.path(), static_cast<int>(id))));
  }
  EXPECT_EQ(total, st.disk_bytes);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(GetValue(store.get(), "key" + std::to_string(i)), "a" + std::string(60, 'x'));
  }
  // A record larger than a segment gets one of its own.
  ASSERT_TRUE(PutValue(store.get(), "big", std::string(5000, 'b')).ok());
  EXPECT_EQ(GetValue(store.get(), "big"), std::string(5000, 'b'));
  EXPECT_EQ(store->stats().segments, st.segments + 1);
}

TEST(SegmentTest, HintsWrittenForSealedSegmentsAndUsedByRecovery) {
  TempDir dir;
  uint64_t segments;
  {
    auto store = OpenWith(SmallSegments(dir.path()));
    Fill(store.get(), 40, "a");
    Fill(store.get(), 20, "b");
    ASSERT_TRUE(store->Delete("key3", nullptr).ok());
    segments = store->stats().segments;
    ASSERT_TRUE(WaitForHint(store.get(), Seg(dir.path(), static_cast<int>(segments - 1), "hint")));
  }
  EXPECT_FALSE(FileExists(Seg(dir.path(), static_cast<int>(segments), "hint")));  // active
  auto store = OpenWith(SmallSegments(dir.path()));
  const RecoveryReport& rep = store->recovery();
  EXPECT_EQ(rep.segments, segments);
  EXPECT_EQ(rep.segments_from_hints, segments - 1);
  EXPECT_TRUE(rep.warnings.empty());
  EXPECT_EQ(store->stats().keys, 39u);
  EXPECT_EQ(GetValue(store.get(), "key3"), "<NotFound>");
  EXPECT_EQ(GetValue(store.get(), "key5"), "b" + std::string(60, 'x'));
  EXPECT_EQ(GetValue(store.get(), "key30"), "a" + std::string(60, 'x'));
  EXPECT_EQ(store->stats().segments, segments);  // appends continue in the old active one
}

// Rewrites the version field of a hint file (and its CRC), as another binary would have.
void SetHintVersion(const std::string& path, uint32_t version) {
  std::string hint = testing::ReadFile(path);
  std::string field;
  PutFixed32(&field, version);
  hint.replace(4, 4, field);
  std::string crc;
  PutFixed32(&crc, Crc32c(hint.data(), hint.size() - 4));
  hint.replace(hint.size() - 4, 4, crc);
  testing::WriteFile(path, hint);
}

// Hints keep their own layout version (2); v3 and v4 binaries wrote 3 and 4 over the same
// layout. A data dir from any of them opens from its hints, without a rescan.
TEST(SegmentTest, HintsOfEveryLayoutVersionAreUsed) {
  TempDir dir;
  uint64_t segments;
  {
    auto store = OpenWith(SmallSegments(dir.path()));
    Fill(store.get(), 40, "a");
    segments = store->stats().segments;
    ASSERT_TRUE(WaitForHint(store.get(), Seg(dir.path(), static_cast<int>(segments - 1), "hint")));
  }
  EXPECT_EQ(DecodeFixed32(testing::ReadFile(Seg(dir.path(), 1, "hint")).data() + 4), 2u);
  for (uint32_t version : {2u, 3u, 4u}) {
    for (uint64_t id = 1; id < segments; ++id)
      SetHintVersion(Seg(dir.path(), static_cast<int>(id), "hint"), version);
    auto store = OpenWith(SmallSegments(dir.path()));
    EXPECT_EQ(store->recovery().segments_from_hints, segments - 1) << "version " << version;
    EXPECT_TRUE(store->recovery().warnings.empty()) << "version " << version;
    EXPECT_EQ(GetValue(store.get(), "key7"), "a" + std::string(60, 'x'));
  }
  // An unknown version is not trusted: that segment is scanned, with a warning.
  SetHintVersion(Seg(dir.path(), 1, "hint"), 5);
  auto store = OpenWith(SmallSegments(dir.path()));
  EXPECT_EQ(store->recovery().segments_from_hints, segments - 2);
  ASSERT_EQ(store->recovery().warnings.size(), 1u);
  EXPECT_NE(store->recovery().warnings[0].find("magic/version"), std::string::npos);
  EXPECT_EQ(GetValue(store.get(), "key7"), "a" + std::string(60, 'x'));
}

TEST(SegmentTest, DamagedOrStaleHintFallsBackToScan) {
  TempDir dir;
  {
    auto store = OpenWith(SmallSegments(dir.path()));
    Fill(store.get(), 40, "a");
    const auto last_sealed = static_cast<int>(store->stats().segments) - 1;
    ASSERT_TRUE(WaitForHint(store.get(), Seg(dir.path(), last_sealed, "hint")));
  }
  std::string hint = testing::ReadFile(Seg(dir.path(), 1, "hint"));
  hint[hint.size() / 2] ^= 0x40;
  testing::WriteFile(Seg(dir.path(), 1, "hint"), hint);
  std::filesystem::resize_file(Seg(dir.path(), 2, "hint"), 10);
  auto store = OpenWith(SmallSegments(dir.path()));
  const RecoveryReport& rep = store->recovery();
  EXPECT_EQ(rep.warnings.size(), 2u);
  EXPECT_NE(rep.warnings[0].find("00000001.hint"), std::string::npos) << rep.warnings[0];
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(GetValue(store.get(), "key" + std::to_string(i)), "a" + std::string(60, 'x'));
  }
  // The maintenance thread rewrites them; the next open is clean.
  store->TEST_WaitIdle();
  EXPECT_NE(testing::ReadFile(Seg(dir.path(), 1, "hint")), hint);
  EXPECT_GT(FileSize(Seg(dir.path(), 2, "hint")), 10u);
  store.reset();
  store = OpenWith(SmallSegments(dir.path()));
  EXPECT_TRUE(store->recovery().warnings.empty());
  EXPECT_EQ(store->recovery().segments_from_hints, store->recovery().segments - 1);
}

TEST(SegmentTest, VersionOneDirIsOneSegment) {
  TempDir dir;
  // A v1 data dir: a single 00000001.log written by hand with the unchanged record codec.
  std::string log, rec;
  EncodeRecord(RecordType::kPut, 1, "a", "alpha", &rec);
  log += rec;
  EncodeRecord(RecordType::kPut, 2, "b", "bravo", &rec);
  log += rec;
  EncodeRecord(RecordType::kDelete, 3, "a", "", &rec);
  log += rec;
  testing::WriteFile(dir.log_path(), log);
  auto store = OpenWith(SmallSegments(dir.path()));
  EXPECT_EQ(GetValue(store.get(), "a"), "<NotFound>");
  EXPECT_EQ(GetValue(store.get(), "b"), "bravo");
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "c", "charlie", &r).ok());
  EXPECT_EQ(r.version, 4u);
  EXPECT_EQ(FileSize(dir.log_path()), log.size() + RecordSize(1, 7));
}

}  // namespace
}  // namespace httpkv::storage
