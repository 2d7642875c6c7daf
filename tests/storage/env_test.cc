// PosixFileSystem: the production file layer the whole store goes through.
#include "storage/env.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::TempDir;

TEST(EnvTest, WriteReadTruncateAndSize) {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  const std::string path = dir.path() + "/f";
  std::unique_ptr<File> f;
  ASSERT_TRUE(fs->Open(path, OpenMode::kCreate, &f).ok());
  ASSERT_TRUE(f->Pwrite(0, "hello world").ok());
  ASSERT_TRUE(f->Pwrite(6, "WORLD!").ok());
  ASSERT_TRUE(f->Sync().ok());
  uint64_t size = 0;
  ASSERT_TRUE(f->Size(&size).ok());
  EXPECT_EQ(size, 12u);
  std::string buf(32, '\0');
  size_t got = 0;
  ASSERT_TRUE(f->Pread(0, buf.size(), buf.data(), &got).ok());
  EXPECT_EQ(buf.substr(0, got), "hello WORLD!");  // a short read only at end of file
  ASSERT_TRUE(f->Truncate(5).ok());
  ASSERT_TRUE(f->Size(&size).ok());
  EXPECT_EQ(size, 5u);
  EXPECT_EQ(f->path(), path);
}

TEST(EnvTest, MappingsSeeTheFileAndWritableOnesWriteIt) {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  std::unique_ptr<File> f;
  ASSERT_TRUE(fs->Open(dir.path() + "/m", OpenMode::kCreate, &f).ok());
  ASSERT_TRUE(f->Pwrite(0, std::string(4096, '\0')).ok());
  MappedRegion shared, writable, priv;
  ASSERT_TRUE(f->Map(4096, MapMode::kShared, &shared).ok());
  ASSERT_TRUE(f->Map(4096, MapMode::kSharedWritable, &writable).ok());
  EXPECT_FALSE(shared.writable());
  ASSERT_TRUE(writable.writable());
  std::copy_n("abc", 3, writable.writable_data() + 100);
  EXPECT_EQ(shared.view().substr(100, 3), "abc");  // one page cache
  ASSERT_TRUE(f->Pwrite(200, "xyz").ok());
  EXPECT_EQ(writable.view().substr(200, 3), "xyz");
  ASSERT_TRUE(f->Map(4096, MapMode::kPrivate, &priv).ok());
  EXPECT_EQ(priv.view().substr(100, 3), "abc");
  writable.MakeReadOnly();
  EXPECT_FALSE(writable.writable());
  MappedRegion empty;
  ASSERT_TRUE(f->Map(0, MapMode::kShared, &empty).ok());
  EXPECT_EQ(empty.data(), nullptr);
  MappedRegion moved = std::move(shared);  // one owner: the moved-from one unmaps nothing
  EXPECT_EQ(moved.view().substr(100, 3), "abc");
}

TEST(EnvTest, DirectoryOperations) {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  const std::string sub = dir.path() + "/a/b";
  ASSERT_TRUE(fs->CreateDir(sub).ok());
  ASSERT_TRUE(fs->CreateDir(sub).ok());  // already there
  std::unique_ptr<File> f;
  EXPECT_TRUE(fs->Open(sub + "/x", OpenMode::kRead, &f).IsNotFound());
  ASSERT_TRUE(fs->Open(sub + "/x", OpenMode::kCreateExclusive, &f).ok());
  EXPECT_FALSE(fs->Open(sub + "/x", OpenMode::kCreateExclusive, &f).ok());
  ASSERT_TRUE(fs->Rename(sub + "/x", sub + "/y").ok());
  EXPECT_FALSE(fs->Exists(sub + "/x"));
  EXPECT_TRUE(fs->Exists(sub + "/y"));
  std::vector<std::string> names;
  ASSERT_TRUE(fs->List(sub, &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{"y"});
  ASSERT_TRUE(fs->SyncDir(sub).ok());
  ASSERT_TRUE(fs->Unlink(sub + "/y").ok());
  EXPECT_TRUE(fs->Unlink(sub + "/y").IsNotFound());
  EXPECT_FALSE(fs->List(sub + "/missing", &names).ok());
}

TEST(EnvTest, NoSpaceMapsToItsOwnCode) {
  EXPECT_EQ(ErrnoStatus("write", ENOSPC).code(), Status::Code::kNoSpace);
  EXPECT_EQ(ErrnoStatus("write", EDQUOT).code(), Status::Code::kNoSpace);
  EXPECT_EQ(ErrnoStatus("write", EIO).code(), Status::Code::kIOError);
}

// A write the kernel takes only partly (here: it crosses RLIMIT_FSIZE, so pwrite returns a
// short count, and the retry of the rest fails with EFBIG) must neither report success nor
// spin: Pwrite retries the remainder, surfaces the error, and exactly the prefix the kernel
// took is in the file.
TEST(EnvTest, ShortWriteIsRetriedAndItsFailureReported) {
  TempDir dir;
  std::unique_ptr<File> f;
  ASSERT_TRUE(FileSystem::Default()->Open(dir.path() + "/s", OpenMode::kCreate, &f).ok());
  constexpr rlim_t kLimit = 5000;
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  rlimit lowered = old;
  lowered.rlim_cur = kLimit;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  const Status s = f->Pwrite(0, std::string(3 * kLimit, 'x'));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("offset 5000"), std::string::npos) << s.ToString();
  uint64_t size = 0;
  ASSERT_TRUE(f->Size(&size).ok());
  EXPECT_EQ(size, kLimit);                    // the prefix the kernel took
  ASSERT_TRUE(f->Pwrite(size, "tail").ok());  // and the file is usable again
}

}  // namespace
}  // namespace httpkv::storage
