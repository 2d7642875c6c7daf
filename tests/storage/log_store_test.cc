#include "storage/log_store.h"

#include <gtest/gtest.h>

#include "storage/record.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::GetValue;
using testing::OpenOrDie;
using testing::PutValue;
using testing::TempDir;

TEST(LogStoreTest, PutGetOverwriteDelete) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "k", "v1", &r).ok());
  EXPECT_FALSE(r.existed);
  const uint64_t v1 = r.version;
  EXPECT_EQ(GetValue(store.get(), "k"), "v1");

  ASSERT_TRUE(PutValue(store.get(), "k", "value two", &r).ok());
  EXPECT_TRUE(r.existed);
  EXPECT_GT(r.version, v1);
  std::string value = "stale contents that must be replaced";
  ValueMeta meta;
  ASSERT_TRUE(store->Get("k", &value, &meta).ok());
  EXPECT_EQ(value, "value two");
  EXPECT_EQ(meta.version, r.version);
  EXPECT_EQ(meta.size, 9u);

  ASSERT_TRUE(store->Delete("k", &r).ok());
  EXPECT_TRUE(r.existed);
  EXPECT_EQ(store->Get("k", &value, &meta).code(), Status::Code::kNotFound);
  EXPECT_EQ(store->Stat("k", &meta).code(), Status::Code::kNotFound);
  EXPECT_EQ(store->Delete("k", &r).code(), Status::Code::kNotFound);
  EXPECT_FALSE(r.existed);
  EXPECT_EQ(store->Get("never", &value, nullptr).code(), Status::Code::kNotFound);
}

TEST(LogStoreTest, EmptyValueAndBinaryData) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const std::string key("\0\xff key", 6);
  const std::string value("\0\1\2\n\r\xfe", 6);
  ASSERT_TRUE(PutValue(store.get(), key, value).ok());
  ASSERT_TRUE(PutValue(store.get(), "empty", "").ok());
  EXPECT_EQ(GetValue(store.get(), key), value);
  EXPECT_EQ(GetValue(store.get(), "empty"), "");
  const std::string long_key(kMaxKeySize, 'L');  // exercises the large-key read path
  ASSERT_TRUE(PutValue(store.get(), long_key, "lv").ok());
  EXPECT_EQ(GetValue(store.get(), long_key), "lv");
}

TEST(LogStoreTest, InvalidArguments) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(PutValue(store.get(), "", "v").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(PutValue(store.get(), std::string(kMaxKeySize + 1, 'k'), "v").code(),
            Status::Code::kInvalidArgument);
  WriteResult r;
  EXPECT_EQ(store->Delete("", &r).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->stats().appends, 0u);
}

TEST(LogStoreTest, Preconditions) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteResult r;
  EXPECT_EQ(store->Put("k", "v", Precondition::kMustExist, 0, &r).code(), Status::Code::kNotFound);
  EXPECT_EQ(store->Put("k", "v", Precondition::kVersionMatches, 0, &r).code(),
            Status::Code::kPreconditionFailed);
  ASSERT_TRUE(store->Put("k", "v", Precondition::kMustNotExist, 0, &r).ok());
  const uint64_t v = r.version;
  EXPECT_EQ(store->Put("k", "x", Precondition::kMustNotExist, 0, &r).code(),
            Status::Code::kPreconditionFailed);
  EXPECT_TRUE(r.existed);
  EXPECT_EQ(store->Put("k", "x", Precondition::kVersionMatches, v + 1, &r).code(),
            Status::Code::kPreconditionFailed);
  EXPECT_EQ(GetValue(store.get(), "k"), "v");  // failed preconditions write nothing
  ASSERT_TRUE(store->Put("k", "x", Precondition::kVersionMatches, v, &r).ok());
  ASSERT_TRUE(store->Put("k", "y", Precondition::kMustExist, 0, &r).ok());
  EXPECT_EQ(GetValue(store.get(), "k"), "y");
  EXPECT_EQ(store->stats().appends, 3u);
}

TEST(LogStoreTest, VersionsMonotonicAndPersisted) {
  TempDir dir;
  uint64_t last = 0;
  ValueMeta meta_a;
  {
    auto store = OpenOrDie(dir.path());
    for (int i = 0; i < 50; ++i) {
      WriteResult r;
      ASSERT_TRUE(PutValue(store.get(), "k" + std::to_string(i % 7), "v", &r).ok());
      EXPECT_GT(r.version, last);
      last = r.version;
    }
    WriteResult r;
    ASSERT_TRUE(store->Delete("k0", &r).ok());
    EXPECT_GT(r.version, last);
    last = r.version;
    ASSERT_TRUE(store->Stat("k1", &meta_a).ok());
  }
  auto store = OpenOrDie(dir.path());
  ValueMeta meta_b;
  ASSERT_TRUE(store->Stat("k1", &meta_b).ok());
  EXPECT_EQ(meta_a.version, meta_b.version);  // version survives reopen (ETags stay valid)
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "new", "v", &r).ok());
  EXPECT_GT(r.version, last);  // seq continues after the tombstone too
}

TEST(LogStoreTest, ReopenReadsEverythingBack) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path(), FsyncPolicy::kAlways);
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(
          PutValue(store.get(), "key" + std::to_string(i), std::string(i % 97, 'a' + i % 26)).ok());
    }
    for (int i = 0; i < 1000; i += 3) {
      WriteResult r;
      ASSERT_TRUE(store->Delete("key" + std::to_string(i), &r).ok());
    }
    ASSERT_TRUE(PutValue(store.get(), "key5", "overwritten").ok());
  }
  auto store = OpenOrDie(dir.path());
  const RecoveryReport& rep = store->recovery();
  EXPECT_EQ(rep.records, 1000u + 334u + 1u);
  EXPECT_EQ(rep.live_keys, 1000u - 334u);
  EXPECT_EQ(rep.torn_tail_bytes, 0u);
  EXPECT_EQ(rep.corrupt_bytes_skipped, 0u);
  EXPECT_TRUE(rep.warnings.empty());
  EXPECT_EQ(rep.bytes_scanned, testing::FileSize(dir.log_path()));
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "key" + std::to_string(i);
    if (i % 3 == 0) {
      EXPECT_EQ(GetValue(store.get(), key), "<NotFound>") << key;
    } else if (i == 5) {
      EXPECT_EQ(GetValue(store.get(), key), "overwritten");
    } else {
      EXPECT_EQ(GetValue(store.get(), key), std::string(i % 97, 'a' + i % 26)) << key;
    }
  }
}

TEST(LogStoreTest, StatsTrackKeysBytesAndFsyncs) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), FsyncPolicy::kAlways);
  ASSERT_TRUE(PutValue(store.get(), "a", "12345").ok());
  ASSERT_TRUE(PutValue(store.get(), "b", "1").ok());
  ASSERT_TRUE(PutValue(store.get(), "a", "123").ok());
  Stats st = store->stats();
  EXPECT_EQ(st.keys, 2u);
  EXPECT_EQ(st.appends, 3u);
  EXPECT_EQ(st.disk_bytes, RecordSize(1, 5) + RecordSize(1, 1) + RecordSize(1, 3));
  EXPECT_EQ(st.disk_bytes, testing::FileSize(dir.log_path()));
  EXPECT_EQ(st.live_bytes, RecordSize(1, 1) + RecordSize(1, 3));
  EXPECT_EQ(st.fsyncs, 3u);
  EXPECT_EQ(st.fsync_errors, 0u);
  WriteResult r;
  ASSERT_TRUE(store->Delete("b", &r).ok());
  st = store->stats();
  EXPECT_EQ(st.keys, 1u);
  EXPECT_EQ(st.live_bytes, RecordSize(1, 3));
  ASSERT_TRUE(store->Sync().ok());
  EXPECT_EQ(store->stats().fsyncs, 5u);
  store.reset();
  store = OpenOrDie(dir.path());
  EXPECT_EQ(store->stats().live_bytes, RecordSize(1, 3));  // recomputed by recovery
  EXPECT_EQ(store->stats().keys, 1u);
}

TEST(LogStoreTest, FsyncPolicies) {
  EXPECT_EQ(ParseFsyncPolicy("always"), FsyncPolicy::kAlways);
  EXPECT_EQ(ParseFsyncPolicy("everysec"), FsyncPolicy::kEverySec);
  EXPECT_EQ(ParseFsyncPolicy("never"), FsyncPolicy::kNever);
  EXPECT_EQ(ParseFsyncPolicy("Always"), std::nullopt);
  EXPECT_EQ(ParseFsyncPolicy(""), std::nullopt);
  for (auto p : {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNever}) {
    EXPECT_EQ(ParseFsyncPolicy(FsyncPolicyName(p)), p);
  }
  TempDir dir;
  auto never = OpenOrDie(dir.path(), FsyncPolicy::kNever);
  EXPECT_EQ(never->fsync_policy(), FsyncPolicy::kNever);
  ASSERT_TRUE(PutValue(never.get(), "k", "v").ok());
  EXPECT_EQ(never->stats().fsyncs, 0u);  // never: only on close
}

TEST(LogStoreTest, EverySecStopsPromptlyAndSyncsOnClose) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), FsyncPolicy::kEverySec);
  ASSERT_TRUE(PutValue(store.get(), "k", "v").ok());
  const auto start = std::chrono::steady_clock::now();
  store.reset();  // must not wait out the syncer's 1 s tick
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  store = OpenOrDie(dir.path());
  EXPECT_EQ(GetValue(store.get(), "k"), "v");
}

TEST(LogStoreTest, GetDetectsCorruptionOnDisk) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(PutValue(store.get(), "k", "hello world").ok());
  // Flip a value byte behind the store's back: Get must refuse, not serve it.
  int fd = open(dir.log_path().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "J", 1, kRecordHeaderSize + 1 + 2), 1);
  close(fd);
  std::string value = "previous";
  Status s = store->Get("k", &value, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("00000001.log"), std::string_view::npos);
  EXPECT_TRUE(value.empty());
}

TEST(LogStoreTest, SealedSegmentsAreReadFromTheirMappingAndStillVerified) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.segment_bytes = 64;  // every record rolls the log over: earlier ones are sealed
  opts.compact_dead_ratio = 1.0;
  std::unique_ptr<LogStore> store;
  ASSERT_TRUE(LogStore::Open(opts, &store).ok());
  ASSERT_TRUE(PutValue(store.get(), "k", "hello world").ok());
  ASSERT_TRUE(PutValue(store.get(), "other", "value two").ok());
  ASSERT_TRUE(PutValue(store.get(), "third", "value three").ok());
  EXPECT_EQ(GetValue(store.get(), "k"), "hello world");  // from a sealed, mapped segment
  EXPECT_EQ(GetValue(store.get(), "other"), "value two");
  // A byte flipped behind the store's back shows through the shared mapping: refused.
  int fd = open(dir.log_path().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "J", 1, kRecordHeaderSize + 1 + 2), 1);
  close(fd);
  std::string value = "previous";
  Status s = store->Get("k", &value, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_TRUE(value.empty());
  EXPECT_EQ(GetValue(store.get(), "other"), "value two");
}

TEST(LogStoreTest, CreatesMissingDirAndAppendsToNewestSegment) {
  TempDir dir;
  const std::string nested = dir.path() + "/a/b";
  auto store = OpenOrDie(nested);
  ASSERT_TRUE(store != nullptr);
  ASSERT_TRUE(PutValue(store.get(), "k", "v1").ok());
  store.reset();
  // Format v2: any NNNNNNNN.log is a segment; the newest one without a hint is active.
  testing::WriteFile(nested + "/00000002.log", "");
  store = OpenOrDie(nested);
  ASSERT_TRUE(PutValue(store.get(), "k", "v2").ok());
  EXPECT_EQ(store->stats().segments, 2u);
  EXPECT_GT(testing::FileSize(nested + "/00000002.log"), 0u);
  EXPECT_EQ(GetValue(store.get(), "k"), "v2");
  Options opts;
  opts.dir = "";
  EXPECT_EQ(LogStore::Open(opts, &store).code(), Status::Code::kInvalidArgument);
}

// Read hands out a view into the mapping, valid inside the read section only; a damaged
// record never reaches fn.
TEST(LogStoreTest, ReadHandsAVerifiedViewInsideAReadSection) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteResult res;
  ASSERT_TRUE(PutValue(store.get(), "k", "the value", &res).ok());
  int calls = 0;
  Status s = store->Read("k", [&](std::string_view v, const ValueMeta& meta) {
    ++calls;
    EXPECT_TRUE(Epoch::InReadSection());
    EXPECT_EQ(v, "the value");
    EXPECT_EQ(meta.version, res.version);
    EXPECT_EQ(meta.size, 9u);
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(Epoch::InReadSection());
  EXPECT_TRUE(
      store->Read("absent", [&](std::string_view, const ValueMeta&) { ++calls; }).IsNotFound());
  int fd = open(dir.log_path().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "X", 1, kRecordHeaderSize + 1 + 4), 1);  // inside the value
  close(fd);
  s = store->Read("k", [&](std::string_view, const ValueMeta&) { ++calls; });
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace httpkv::storage
