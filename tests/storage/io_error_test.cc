// Write failures must leave the log and index untouched and the store usable afterwards.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/log_store.h"
#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FileSize;
using testing::GetValue;
using testing::PutValue;
using testing::TempDir;

// Appends go through pwrite here: the fault file system refuses writable mappings (as a
// file system without shared writable mmap would), so every append is a File::Pwrite the
// test can fail.
class IoErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_.set_refuse_writable_maps(true);
    Options opts;
    opts.dir = dir_.path();
    opts.fsync = FsyncPolicy::kNever;
    opts.fs = &fs_;
    ASSERT_TRUE(LogStore::Open(opts, &store_).ok());
    ASSERT_TRUE(PutValue(store_.get(), "k", "original").ok());
  }

  // Fails every write from now on with err (a full disk, a dying one).
  void FailWrites(Status err) {
    fs_.SetHook([err](testing::FsOp op, const std::string&) {
      return op == testing::FsOp::kWrite ? err : Status::OK();
    });
  }

  TempDir dir_;
  testing::FaultFileSystem fs_;
  std::unique_ptr<LogStore> store_;
};

TEST_F(IoErrorTest, NoSpaceAfterPartialWriteRollsBack) {
  const uint64_t size = FileSize(dir_.log_path());
  const uint64_t writes = fs_.count(testing::FsOp::kWrite);
  fs_.set_partial_writes(true);  // half the record lands on disk, then ENOSPC
  FailWrites(Status::NoSpace("injected ENOSPC"));
  WriteResult r;
  Status s = store_->Put("k", std::string(1000, 'x'), Precondition::kNone, 0, &r);
  EXPECT_EQ(s.code(), Status::Code::kNoSpace) << s.ToString();
  EXPECT_EQ(fs_.count(testing::FsOp::kWrite), writes + 1);
  EXPECT_EQ(FileSize(dir_.log_path()), size);  // the half record was cut off
  EXPECT_EQ(GetValue(store_.get(), "k"), "original");
  EXPECT_EQ(store_->stats().disk_bytes, size);
  EXPECT_EQ(store_->stats().appends, 1u);
  EXPECT_EQ(PutValue(store_.get(), "new", "v").code(), Status::Code::kNoSpace);
  EXPECT_EQ(GetValue(store_.get(), "new"), "<NotFound>");

  fs_.SetHook(nullptr);  // space comes back
  ASSERT_TRUE(store_->Put("k", "after", Precondition::kNone, 0, &r).ok());
  EXPECT_EQ(GetValue(store_.get(), "k"), "after");
  store_.reset();
  auto reopened = testing::OpenOrDie(dir_.path());
  EXPECT_TRUE(reopened->recovery().warnings.empty());
  EXPECT_EQ(GetValue(reopened.get(), "k"), "after");
}

// The cut-back itself fails: the half record stays until the next append truncates it.
TEST_F(IoErrorTest, FailedCutBackIsRetriedBeforeTheNextAppend) {
  const uint64_t size = FileSize(dir_.log_path());
  fs_.set_partial_writes(true);
  fs_.SetHook([](testing::FsOp op, const std::string&) {
    return op == testing::FsOp::kWrite || op == testing::FsOp::kTruncate
               ? Status::IOError("injected EIO")
               : Status::OK();
  });
  EXPECT_EQ(PutValue(store_.get(), "k", std::string(1000, 'x')).code(), Status::Code::kIOError);
  EXPECT_GT(FileSize(dir_.log_path()), size);  // half a record that could not be cut off
  EXPECT_EQ(PutValue(store_.get(), "k2", "v").code(), Status::Code::kIOError);
  fs_.SetHook(nullptr);
  ASSERT_TRUE(PutValue(store_.get(), "k2", "v").ok());
  store_.reset();
  auto reopened = testing::OpenOrDie(dir_.path());
  EXPECT_TRUE(reopened->recovery().warnings.empty()) << reopened->recovery().warnings[0];
  EXPECT_EQ(GetValue(reopened.get(), "k"), "original");
  EXPECT_EQ(GetValue(reopened.get(), "k2"), "v");
}

TEST_F(IoErrorTest, EioIsIOErrorAndDeleteKeepsKey) {
  FailWrites(Status::IOError("injected EIO"));
  WriteResult r;
  EXPECT_EQ(PutValue(store_.get(), "k", "x").code(), Status::Code::kIOError);
  EXPECT_EQ(store_->Delete("k", &r).code(), Status::Code::kIOError);
  EXPECT_EQ(GetValue(store_.get(), "k"), "original");
  fs_.SetHook(nullptr);
  EXPECT_TRUE(store_->Delete("k", &r).ok());
}

// The real thing: a tiny tmpfs that actually fills up. Needs CAP_SYS_ADMIN.
TEST(TmpfsNoSpaceTest, FullDiskThenSpaceReturns) {
  TempDir dir;
  const std::string mnt = dir.path() + "/mnt";
  std::filesystem::create_directory(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (" << std::strerror(errno)
                 << "); ENOSPC covered by fault injection instead";
  }
  {
    const std::string filler = mnt + "/filler";
    testing::WriteFile(filler, std::string(128 << 10, 'f'));
    auto store = testing::OpenOrDie(mnt + "/data");
    const std::string value(24 << 10, 'v');
    Status s;
    int stored = 0;
    uint64_t size_before = 0;
    for (; stored < 100; ++stored) {
      size_before = FileSize(mnt + "/data/00000001.log");
      s = PutValue(store.get(), "k" + std::to_string(stored), value);
      if (!s.ok()) break;
    }
    ASSERT_EQ(s.code(), Status::Code::kNoSpace) << s.ToString();
    EXPECT_GT(stored, 0);
    EXPECT_EQ(FileSize(mnt + "/data/00000001.log"), size_before);
    for (int i = 0; i < stored; ++i)
      EXPECT_EQ(GetValue(store.get(), "k" + std::to_string(i)), value);
    std::filesystem::remove(filler);
    EXPECT_TRUE(PutValue(store.get(), "late", value).ok());
    EXPECT_EQ(GetValue(store.get(), "late"), value);
  }
  EXPECT_EQ(umount2(mnt.c_str(), MNT_DETACH), 0);
}

}  // namespace
}  // namespace httpkv::storage
