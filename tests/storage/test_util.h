// Helpers shared by the storage tests: a self-deleting temp dir and raw file access.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/log_store.h"

namespace httpkv::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "httpkv_storage_XXXXXX";
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string log_path() const { return path_ + "/00000001.log"; }

 private:
  std::string path_;
};

inline std::unique_ptr<LogStore> OpenOrDie(const std::string& dir,
                                           FsyncPolicy fsync = FsyncPolicy::kNever) {
  std::unique_ptr<LogStore> store;
  Options opts;
  opts.dir = dir;
  opts.fsync = fsync;
  Status s = LogStore::Open(opts, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

inline std::unique_ptr<LogStore> OpenWith(const Options& opts) {
  std::unique_ptr<LogStore> store;
  Status s = LogStore::Open(opts, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

inline bool FileExists(const std::string& path) {
  return std::filesystem::exists(path);
}

inline uint64_t FileSize(const std::string& path) {
  return std::filesystem::file_size(path);
}

inline std::string ReadFile(const std::string& path) {
  std::string out(FileSize(path), '\0');
  int fd = open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(pread(fd, out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
  close(fd);
  return out;
}

inline void WriteFile(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
}

inline Status PutValue(LogStore* store, std::string_view key, std::string_view value,
                       WriteResult* result = nullptr) {
  return store->Put(key, value, Precondition::kNone, 0, result);
}

inline std::string GetValue(const LogStore* store, std::string_view key) {
  std::string v;
  Status s = store->Get(key, &v, nullptr);
  return s.ok() ? v : "<" + s.ToString() + ">";
}

}  // namespace httpkv::storage::testing
