// Write failures must leave the log and index untouched and the store usable afterwards.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::FileSize;
using testing::GetValue;
using testing::PutValue;
using testing::TempDir;

enum class Fault { kNone, kPartialThenNoSpace, kEio, kShortAndEintr };

// Fault-injecting pwrite: the store sees exactly what a failing kernel would return.
struct FaultyDisk {
  std::atomic<Fault> fault{Fault::kNone};
  int calls = 0;

  ssize_t Write(int fd, const void* buf, size_t n, off_t off) {
    ++calls;
    switch (fault.load()) {
      case Fault::kNone:
        return pwrite(fd, buf, n, off);
      case Fault::kPartialThenNoSpace:
        if (calls % 2 == 1 && n > 1) return pwrite(fd, buf, n / 2, off);  // lands on disk
        errno = ENOSPC;
        return -1;
      case Fault::kEio:
        errno = EIO;
        return -1;
      case Fault::kShortAndEintr:
        if (calls % 3 == 0) {
          errno = EINTR;
          return -1;
        }
        return pwrite(fd, buf, std::min<size_t>(n, 7), off);
    }
    return -1;
  }
};

class IoErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options opts;
    opts.dir = dir_.path();
    opts.fsync = FsyncPolicy::kNever;
    opts.pwrite_for_test = [this](int fd, const void* b, size_t n, off_t o) {
      return disk_.Write(fd, b, n, o);
    };
    ASSERT_TRUE(LogStore::Open(opts, &store_).ok());
    ASSERT_TRUE(PutValue(store_.get(), "k", "original").ok());
  }

  TempDir dir_;
  FaultyDisk disk_;
  std::unique_ptr<LogStore> store_;
};

TEST_F(IoErrorTest, NoSpaceAfterPartialWriteRollsBack) {
  const uint64_t size = FileSize(dir_.log_path());
  disk_.calls = 0;  // the next call writes half the record for real, then ENOSPC
  disk_.fault = Fault::kPartialThenNoSpace;
  WriteResult r;
  Status s = store_->Put("k", std::string(1000, 'x'), Precondition::kNone, 0, &r);
  EXPECT_EQ(s.code(), Status::Code::kNoSpace) << s.ToString();
  EXPECT_EQ(disk_.calls, 2);
  EXPECT_EQ(FileSize(dir_.log_path()), size);  // the half record was cut off
  EXPECT_EQ(GetValue(store_.get(), "k"), "original");
  EXPECT_EQ(store_->stats().disk_bytes, size);
  EXPECT_EQ(store_->stats().appends, 1u);
  EXPECT_EQ(PutValue(store_.get(), "new", "v").code(), Status::Code::kNoSpace);
  EXPECT_EQ(GetValue(store_.get(), "new"), "<NotFound>");

  disk_.fault = Fault::kNone;  // space comes back
  ASSERT_TRUE(store_->Put("k", "after", Precondition::kNone, 0, &r).ok());
  EXPECT_EQ(GetValue(store_.get(), "k"), "after");
  store_.reset();
  auto reopened = testing::OpenOrDie(dir_.path());
  EXPECT_TRUE(reopened->recovery().warnings.empty());
  EXPECT_EQ(GetValue(reopened.get(), "k"), "after");
}

TEST_F(IoErrorTest, EioIsIOErrorAndDeleteKeepsKey) {
  disk_.fault = Fault::kEio;
  WriteResult r;
  EXPECT_EQ(PutValue(store_.get(), "k", "x").code(), Status::Code::kIOError);
  EXPECT_EQ(store_->Delete("k", &r).code(), Status::Code::kIOError);
  EXPECT_EQ(GetValue(store_.get(), "k"), "original");
  disk_.fault = Fault::kNone;
  EXPECT_TRUE(store_->Delete("k", &r).ok());
}

TEST_F(IoErrorTest, ShortWritesAndEintrAreRetried) {
  disk_.fault = Fault::kShortAndEintr;
  const std::string value(100, 'v');
  ASSERT_TRUE(PutValue(store_.get(), "k2", value).ok());
  EXPECT_GT(disk_.calls, 10);
  disk_.fault = Fault::kNone;
  EXPECT_EQ(GetValue(store_.get(), "k2"), value);
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
