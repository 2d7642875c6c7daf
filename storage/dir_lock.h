// DirLock: exclusive ownership of a data directory via flock(2) on DIR/LOCK.
//
// flock locks belong to the open file description, so the lock dies with the process
// (no stale locks after kill -9). The LOCK file is never deleted: unlinking it would let
// a second process lock a fresh inode while the first still holds the old one.
#pragma once

#include <memory>
#include <string>

#include "storage/status.h"

namespace httpkv::storage {

class DirLock {
 public:
  // Busy("data dir DIR is in use by another httpkv-server (pid N)") if already held.
  static Status Acquire(const std::string& dir, std::unique_ptr<DirLock>* out);

  ~DirLock();  // unlocks and closes
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
};

}  // namespace httpkv::storage
