// LogStore: Bitcask-style key-value store over an append-only log (format: storage/FORMAT.md).
//
// Thread safety — every public method may be called from any thread concurrently:
//   * write_mu_ serialises writers (Put/Delete): precondition check, seq assignment, the
//     append, and the index update happen atomically under it. It also guards end_offset_,
//     next_seq_, write_buf_ and tail_dirty_. With --fsync always the fdatasync runs under it.
//   * KeyIndex has its own shared_mutex, held only to copy or update an entry — never across
//     disk I/O. Readers (Get/Scan) copy a location under it, then pread without any lock;
//     that is safe because records are never rewritten (append-only, no compaction yet).
//   * sync_mu_/sync_cv_ guard stop_ for the everysec background syncer thread.
//   * Counters for stats() and unsynced_ are atomics; fd_, options and the recovery report
//     are immutable after Open.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "storage/dir_lock.h"
#include "storage/key_index.h"
#include "storage/recovery.h"
#include "storage/status.h"

namespace httpkv::storage {

// Redis appendfsync semantics.
enum class FsyncPolicy : uint8_t { kAlways, kEverySec, kNever };
std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name);  // always|everysec|never
std::string_view FsyncPolicyName(FsyncPolicy policy);

struct Options {
  std::string dir;
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  // Testing seam: replaces pwrite(2) for log appends when set (fault injection).
  std::function<ssize_t(int fd, const void* buf, size_t n, off_t offset)> pwrite_for_test;
};

enum class Precondition : uint8_t { kNone, kMustExist, kMustNotExist, kVersionMatches };

// version = seq of the record holding the value (monotonic, persisted).
struct ValueMeta {
  uint64_t version = 0;
  uint32_t size = 0;
};

// existed: key was live before this write; version: the new record's seq.
struct WriteResult {
  bool existed = false;
  uint64_t version = 0;
};

// Keys in byte order, > after (exclusive), starting with prefix, at most limit of them.
struct ScanOptions {
  std::string_view prefix;
  std::string_view after;
  size_t limit = SIZE_MAX;
};

struct Stats {
  uint64_t keys = 0;
  uint64_t disk_bytes = 0;  // log file size
  uint64_t live_bytes = 0;  // bytes of records that are the latest version of a live key
  uint64_t appends = 0;
  uint64_t fsyncs = 0;
  uint64_t fsync_ns_total = 0;
  uint64_t fsync_errors = 0;
};

class LogStore {
 public:
  // Creates dir if missing; takes the dir lock (Busy if held); recovers the log.
  static Status Open(const Options& opts, std::unique_ptr<LogStore>* out);
  // Stops the background syncer, fdatasyncs, closes, releases the lock.
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // The record is written with pwrite before returning; fsync per policy (with kAlways an
  // fdatasync failure returns IOError although the record is in the log and readable).
  // kMustExist & absent -> NotFound; kMustNotExist & present -> PreconditionFailed
  // (result->existed = true); kVersionMatches & (absent or other version) -> PreconditionFailed.
  // Write errors -> NoSpace/IOError with the log and index unchanged. result may be null.
  Status Put(std::string_view key, std::string_view value, Precondition pre,
             uint64_t expected_version, WriteResult* result);
  // Appends a tombstone; NotFound if absent.
  Status Delete(std::string_view key, WriteResult* result);
  // preads and CRC-verifies the record (Corruption on mismatch, never a wrong value).
  // *value is overwritten, reusing its capacity. meta may be null.
  Status Get(std::string_view key, std::string* value, ValueMeta* meta) const;
  // Index only, no disk I/O.
  Status Stat(std::string_view key, ValueMeta* meta) const;
  // fn(key, value) in key byte order until it returns false. Locations are snapshotted in
  // batches under the index lock and read without it, so writers are never blocked by the
  // reads; a write concurrent with a scan may or may not be seen.
  Status Scan(const ScanOptions& opts,
              const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  Status Sync();  // fdatasync now

  Stats stats() const;
  const RecoveryReport& recovery() const { return recovery_; }
  FsyncPolicy fsync_policy() const { return opts_.fsync; }
  const std::string& dir() const { return opts_.dir; }

 private:
  explicit LogStore(Options opts);
  Status OpenSegment();
  Status AppendLocked(uint64_t* offset);
  Status AfterAppendLocked();
  Status ReadValue(std::string_view key, const IndexEntry& e, std::string* value) const;
  Status SyncNow();
  void SyncerLoop();

  const Options opts_;
  std::unique_ptr<DirLock> lock_;
  int fd_ = -1;
  uint32_t segment_id_ = 1;
  std::string segment_name_;  // "00000001.log"
  RecoveryReport recovery_;
  KeyIndex index_;

  std::mutex write_mu_;
  uint64_t end_offset_ = 0;  // guarded by write_mu_
  uint64_t next_seq_ = 1;    // guarded by write_mu_
  std::string write_buf_;    // guarded by write_mu_; reused record encoding buffer
  bool tail_dirty_ = false;  // guarded by write_mu_; a failed append could not be truncated

  std::atomic<uint64_t> disk_bytes_{0}, live_bytes_{0}, appends_{0};
  std::atomic<uint64_t> fsyncs_{0}, fsync_ns_{0}, fsync_errors_{0};
  std::atomic<bool> unsynced_{false};  // writes since the last fdatasync (everysec)

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stop_ = false;  // guarded by sync_mu_
  std::thread syncer_;
};

}  // namespace httpkv::storage
