// FileSystemWrapper and FileWrapper (LevelDB's EnvWrapper): a FileSystem / File that
// forwards every call to the one it wraps, so a file system that changes a few operations
// (storage/metered_fs.h counts syncs, tests/storage/fault_fs.h fails them) derives from
// these and overrides only those. A method added to FileSystem or File gets its forwarding
// here, once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/env.h"

namespace httpkv::storage {

// Owns the wrapped file.
class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> target) : target_(std::move(target)) {}

  Status Pread(uint64_t offset, size_t n, char* buf, size_t* got) override {
    return target_->Pread(offset, n, buf, got);
  }
  Status Pwrite(uint64_t offset, std::string_view data) override {
    return target_->Pwrite(offset, data);
  }
  Status Sync() override { return target_->Sync(); }
  Status Truncate(uint64_t size) override { return target_->Truncate(size); }
  Status Size(uint64_t* size) override { return target_->Size(size); }
  Status Map(uint64_t size, MapMode mode, MappedRegion* out) override {
    return target_->Map(size, mode, out);
  }
  const std::string& path() const override { return target_->path(); }

 protected:
  File* target() const { return target_.get(); }

 private:
  const std::unique_ptr<File> target_;
};

// Does not own the wrapped file system, which must outlive it.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}

  Status Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) override {
    return target_->Open(path, mode, out);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  Status Unlink(const std::string& path) override { return target_->Unlink(path); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Status CreateDir(const std::string& dir) override { return target_->CreateDir(dir); }
  Status List(const std::string& dir, std::vector<std::string>* names) override {
    return target_->List(dir, names);
  }
  bool Exists(const std::string& path) override { return target_->Exists(path); }

 protected:
  FileSystem* target() const { return target_; }

 private:
  FileSystem* const target_;
};

}  // namespace httpkv::storage
