#include "storage/dir_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::OpenOrDie;
using testing::TempDir;

TEST(DirLockTest, SecondOpenIsBusyAndNamesDirAndPid) {
  TempDir dir;
  auto first = OpenOrDie(dir.path());
  std::unique_ptr<LogStore> second;
  Options opts;
  opts.dir = dir.path();
  Status s = LogStore::Open(opts, &second);
  EXPECT_EQ(s.code(), Status::Code::kBusy);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(s.message(), "data dir " + dir.path() + " is in use by another httpkv-server (pid " +
                             std::to_string(getpid()) + ")");
  EXPECT_EQ(testing::ReadFile(dir.path() + "/LOCK"), std::to_string(getpid()) + "\n");
}

TEST(DirLockTest, ReleasedOnClose) {
  TempDir dir;
  OpenOrDie(dir.path()).reset();
  auto again = OpenOrDie(dir.path());
  EXPECT_NE(again, nullptr);
}

TEST(DirLockTest, DirectAcquire) {
  TempDir dir;
  std::unique_ptr<DirLock> a, b;
  ASSERT_TRUE(DirLock::Acquire(dir.path(), &a).ok());
  EXPECT_EQ(DirLock::Acquire(dir.path(), &b).code(), Status::Code::kBusy);
  a.reset();
  EXPECT_TRUE(DirLock::Acquire(dir.path(), &b).ok());
  EXPECT_EQ(DirLock::Acquire(dir.path() + "/missing", &a).code(), Status::Code::kIOError);
}

}  // namespace
}  // namespace httpkv::storage
