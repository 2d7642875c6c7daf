// The file layer of storage/ (in the style of LevelDB's Env): every read, write, sync,
// truncation, mapping, rename, unlink and directory sync of a data directory goes through a
// FileSystem, so tests can inject faults at any of them (tests/storage/fault_fs.h) and the
// store can count every fdatasync (storage/metered_fs.h). PosixFileSystem (posix_env.cc) is
// the production one.
//
// Hot path: mapped reads and mapped appends touch a MappedRegion's memory directly, with no
// virtual call; a virtual call is paid per Pwrite (already a syscall) and per Sync (one per
// group commit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/status.h"

namespace httpkv::storage {

// The one owner of a memory mapping of a file (munmap on destruction).
class MappedRegion {
 public:
  MappedRegion() = default;
  MappedRegion(void* addr, size_t size, bool writable)
      : addr_(static_cast<char*>(addr)), size_(size), writable_(writable) {}
  ~MappedRegion();
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  MappedRegion(MappedRegion&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(o.size_), writable_(o.writable_) {}
  MappedRegion& operator=(MappedRegion&& o) noexcept {
    std::swap(addr_, o.addr_);
    std::swap(size_, o.size_);
    std::swap(writable_, o.writable_);
    return *this;
  }

  const char* data() const { return addr_; }
  char* writable_data() const { return addr_; }  // only when writable()
  size_t size() const { return size_; }
  bool writable() const { return writable_; }
  std::string_view view() const { return {addr_, size_}; }
  // Makes a writable mapping read-only (a guard against stray writes once sealed).
  void MakeReadOnly();

 private:
  char* addr_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
};

enum class MapMode : uint8_t {
  kShared,          // read-only MAP_SHARED: sees later writes to the file
  kSharedWritable,  // read-write MAP_SHARED: stores reach the page cache (appends)
  kPrivate,         // read-only MAP_PRIVATE, read sequentially (scans)
};

// An open file. Errors: ENOSPC/EDQUOT -> NoSpace, anything else -> IOError.
class File {
 public:
  virtual ~File() = default;
  // Reads up to n bytes at offset; *got < n only at end of file.
  virtual Status Pread(uint64_t offset, size_t n, char* buf, size_t* got) = 0;
  // Writes all of data at offset (short writes and EINTR are retried). On failure some
  // prefix of data may have reached the file.
  virtual Status Pwrite(uint64_t offset, std::string_view data) = 0;
  virtual Status Sync() = 0;  // fdatasync
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Size(uint64_t* size) = 0;
  // Maps the first size bytes (an empty region when size is 0). The file may be shorter
  // (kShared only): pages past its end must not be touched until data is written there.
  virtual Status Map(uint64_t size, MapMode mode, MappedRegion* out) = 0;
  // The path it was opened with (for messages).
  virtual const std::string& path() const = 0;
};

enum class OpenMode : uint8_t {
  kRead,             // existing file, read-only
  kReadWrite,        // existing file
  kCreate,           // read-write, created or truncated to empty
  kCreateExclusive,  // read-write, must not exist yet
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // NotFound when opening a missing file without a create mode.
  virtual Status Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Unlink(const std::string& path) = 0;    // NotFound if absent
  virtual Status SyncDir(const std::string& dir) = 0;    // fsync of the directory
  virtual Status CreateDir(const std::string& dir) = 0;  // with parents; OK if it exists
  // Names (not paths) of the entries of dir, "." and ".." excluded, in no order.
  virtual Status List(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual bool Exists(const std::string& path) = 0;

  // The process-wide PosixFileSystem.
  static FileSystem* Default();
};

// ENOSPC/EDQUOT map to NoSpace so callers can answer 507 rather than 500.
Status ErrnoStatus(std::string_view what, int err);

}  // namespace httpkv::storage
