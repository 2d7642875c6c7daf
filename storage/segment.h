// Segment files and the small I/O helpers shared by the store, recovery, compaction and
// check/repair (file naming and crash rules: storage/FORMAT.md).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace httpkv::storage {

// "00000007.log", "00000007.hint".
std::string SegmentFileName(uint32_t id);
std::string HintFileName(uint32_t id);
// Id of a "NNNNNNNN.log" name, nullopt for anything else.
std::optional<uint32_t> ParseSegmentFileName(std::string_view name);

// Name of the compaction commit marker and the suffix of files not yet adopted.
inline constexpr std::string_view kCompactMarker = "COMPACT";
inline constexpr std::string_view kTempSuffix = ".tmp";

// ENOSPC/EDQUOT map to NoSpace so callers can answer 507 rather than 500.
Status ErrnoStatus(std::string_view what, int err);
Status FsyncDir(const std::string& dir);
// preadv until every iovec is filled; EOF first is Corruption ("record extends past end").
Status PreadvFull(int fd, iovec* iov, int count, uint64_t offset);
// pwrite all of data (retrying short writes and EINTR).
Status PwriteFull(int fd, std::string_view data, uint64_t offset);
// Writes path.tmp, fsyncs it, renames it to path and fsyncs the directory.
Status WriteFileAtomic(const std::string& dir, const std::string& name, std::string_view data);
// Whole-file read; NotFound if absent.
Status ReadWholeFile(const std::string& path, std::string* out);

// A read-only (or, while it is the active segment, appended-to) segment file. Shared via
// shared_ptr: the fd stays open until the last reader drops its reference, even after
// compaction unlinked the file.
struct Segment {
  Segment(uint32_t id, int fd, uint64_t size);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Maps the segment read-only once it is sealed (immutable from here on), so reads copy
  // from memory instead of calling pread (~8 ns vs ~600 ns for a cached 120-byte record,
  // storage_read_path_bench). Call after recovery fixed its size. Failure is harmless:
  // readers fall back to pread.
  void MapSealed();
  // The mapping and its length, or nullptr while unsealed.
  const char* mapped(uint64_t* len) const {
    const char* m = map_.load(std::memory_order_acquire);
    *len = m != nullptr ? map_len_ : 0;  // map_len_ is only valid (and ordered) after map_
    return m;
  }

  const uint32_t id;
  const int fd;
  const std::string name;      // "NNNNNNNN.log"
  std::atomic<uint64_t> size;  // end of the valid records
  std::atomic<bool> has_hint{false};

 private:
  uint64_t map_len_ = 0;  // written before map_ is published (release), never after
  std::atomic<const char*> map_{nullptr};
};

// Opens DIR/NNNNNNNN.log (read-only or read-write) and wraps it with its current size.
Status OpenSegmentAt(const std::string& dir, uint32_t id, bool writable,
                     std::shared_ptr<Segment>* out);

// Reader-biased shared mutex: readers lock one of kSlots cache-line-sized shared_mutexes
// chosen per thread, so concurrent readers never share a lock word; the rare writer
// (rollover, compaction install) locks them all. Meets SharedMutex for std::shared_lock.
class SegmentTableLock {
 public:
  void lock_shared() { slots_[ThreadSlot()].mu.lock_shared(); }
  void unlock_shared() { slots_[ThreadSlot()].mu.unlock_shared(); }
  void lock() {
    for (Slot& s : slots_) s.mu.lock();
  }
  void unlock() {
    for (Slot& s : slots_) s.mu.unlock();
  }

 private:
  static constexpr size_t kSlots = 16;
  struct alignas(64) Slot {
    std::shared_mutex mu;
  };
  static size_t ThreadSlot();
  Slot slots_[kSlots];
};

// What a data directory holds, by file name.
struct DirListing {
  std::vector<uint32_t> segments;  // ascending
  std::vector<uint32_t> hints;     // ascending
  std::vector<std::string> temps;  // *.tmp leftovers
  bool compact_marker = false;
};
Status ListDataDir(const std::string& dir, DirListing* out);

}  // namespace httpkv::storage
