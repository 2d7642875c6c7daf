// LogStore: Bitcask-style key-value store over append-only segment files
// (format: storage/FORMAT.md).
//
// Thread safety — every public method may be called from any thread concurrently.
// Lock order: compact_mu_ -> write_mu_ -> seg_mu_ -> KeyIndex's internal mutex; sync_mu_ and
// maint_mu_ are leaves. No lock is ever held while a user callback (SyncAsync's done) runs.
//   * write_mu_ serialises writers (Put/Delete): precondition check, seq assignment, the
//     append, rollover and the index update happen atomically under it. It guards active_,
//     end_offset_, next_seq_, write_buf_ and tail_dirty_. With --fsync always and no group
//     commit the fdatasync runs under it.
//   * KeyIndex: lookups take no lock (epoch read sections); updates and listing pages take its
//     internal mutex, held only to update an entry or copy a page — never across I/O.
//     Readers (Get/Scan) copy a location, then look up its segment and pread without a lock.
//   * seg_mu_ (a reader-biased shared lock: per-thread slots, so readers share no lock word)
//     guards segments_, the id -> shared_ptr<Segment> table. Get/Scan hold it shared across
//     their pread, so a segment cannot be dropped mid-read; compaction and scans that outlive
//     the table entry hold a shared_ptr, which keeps the fd (and the unlinked inode) alive.
//     Compaction repoints index entries before it drops input segments from the table; a
//     reader whose segment is already gone re-reads the index (the entry moved) and retries.
//   * Group commit: sync_mu_ guards waiters_ and stop_; log_pos_ (token of the last append,
//     written under write_mu_) and durable_token_ are atomics. One syncer thread serves both
//     SyncAsync groups and the everysec tick.
//   * compact_mu_ serialises compactions and hint writing (Compact() on the caller's thread,
//     or the maintenance thread); maint_mu_/maint_cv_ carry requests to the maintenance thread.
//   * Counters for stats() are atomics; options and the recovery report are immutable after
//     Open.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/dir_lock.h"
#include "storage/key_index.h"
#include "storage/recovery.h"
#include "storage/segment.h"
#include "storage/status.h"

namespace httpkv::storage {

class CompactionWriter;

// Redis appendfsync semantics.
enum class FsyncPolicy : uint8_t { kAlways, kEverySec, kNever };
std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name);  // always|everysec|never
std::string_view FsyncPolicyName(FsyncPolicy policy);

struct Options {
  std::string dir;
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  // With kAlways: Put/Delete do not fdatasync inline; the caller passes
  // WriteResult::sync_token to SyncAsync and acknowledges the write when done runs.
  bool group_commit = false;
  // The active segment rolls over when an append would grow it past this (a single larger
  // record gets a segment of its own).
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Compact in the background after a rollover when dead_bytes / disk_bytes exceeds this
  // (>= 1 disables automatic compaction; Compact()/RequestCompaction() still work).
  double compact_dead_ratio = 0.5;
  // Testing seam: replaces fdatasync(2) for segment syncs when set (fault injection).
  std::function<int(int fd)> fdatasync_for_test;
  // Testing seam: called at each compaction step (1, 2, ...); returning false makes the
  // compaction stop right there, leaving the files as a crash at that point would.
  std::function<bool(int step)> compaction_step_for_test;
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
// sync_token: log position after this record (monotonic for the store's lifetime, across
// segments); durable once durable_token() >= sync_token. 0 when nothing was written.
struct WriteResult {
  bool existed = false;
  uint64_t version = 0;
  uint64_t sync_token = 0;
};

// Keys in byte order, > after (exclusive), starting with prefix, at most limit of them.
struct ScanOptions {
  std::string_view prefix;
  std::string_view after;
  size_t limit = SIZE_MAX;
};

struct Stats {
  uint64_t keys = 0;
  uint64_t disk_bytes = 0;  // total size of all segment files
  uint64_t live_bytes = 0;  // bytes of records that are the latest version of a live key
  uint64_t appends = 0;
  uint64_t fsyncs = 0;
  uint64_t fsync_ns_total = 0;
  uint64_t fsync_errors = 0;
  uint64_t dead_bytes = 0;  // disk_bytes - live_bytes: what compaction can reclaim
  uint64_t segments = 0;
  uint64_t compactions = 0;  // completed compactions
};

class LogStore {
 public:
  // Creates dir if missing; takes the dir lock (Busy if held); finishes or discards an
  // interrupted compaction; recovers the index from hints and segments.
  static Status Open(const Options& opts, std::unique_ptr<LogStore>* out);
  // Stops the maintenance thread (an unfinished compaction is abandoned safely), completes
  // pending SyncAsync callbacks, fdatasyncs, closes, releases the lock.
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
  // pages under the index mutex and read without it, so writers are never blocked by the
  // reads; a write concurrent with a scan may or may not be seen.
  Status Scan(const ScanOptions& opts,
              const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  Status Sync();  // fdatasync now

  // Group commit: runs done(status) once an fdatasync that started after the write with
  // `token` completed — one fdatasync covers every write appended so far, from all threads;
  // calls arriving while one is in flight join the next. done runs on the store's syncer
  // thread, or immediately on the caller's thread when token <= durable_token() (token 0
  // included). It gets the IOError if that fdatasync failed. Never called with a store lock
  // held; keep it cheap (post to an event loop). The destructor completes pending calls.
  void SyncAsync(uint64_t token, std::function<void(Status)> done);
  // Every write with sync_token <= this is on stable storage.
  uint64_t durable_token() const { return durable_token_.load(std::memory_order_acquire); }

  // Merges all sealed segments into new ones holding only live records and swaps them in.
  // Blocks until done; reads and writes continue meanwhile.
  Status Compact();
  // Asks the maintenance thread to compact soon; returns immediately.
  void RequestCompaction();

  Stats stats() const;
  const RecoveryReport& recovery() const { return recovery_; }
  FsyncPolicy fsync_policy() const { return opts_.fsync; }
  const std::string& dir() const { return opts_.dir; }

 private:
  struct SyncWaiter {
    uint64_t token;
    std::function<void(Status)> done;
  };
  explicit LogStore(Options opts);
  Status LoadSegments();
  Status OpenSegmentFile(uint32_t id, bool writable, std::shared_ptr<Segment>* out);
  Status CreateActiveSegment(uint32_t id);
  Status AppendLocked(uint64_t* offset);
  Status RollOverLocked();
  Status AfterAppendLocked();
  Status ReadResolved(std::string_view key, IndexEntry* e, std::string* value) const;
  Status ReadValue(const Segment& seg, std::string_view key, const IndexEntry& e,
                   std::string* value) const;
  // fdatasync + accounting (sync.cc).
  int DoFdatasync(int fd);
  Status SyncLockedSegment(const Segment& seg, uint64_t target);
  Status SyncActive();
  void AdvanceDurable(uint64_t target);
  void SyncerLoop();
  void RunSyncGroup(std::unique_lock<std::mutex>& lock);
  void StopSyncer();
  // Compaction and hints (compaction.cc).
  void MaintenanceLoop();
  void StopMaintenance();
  void WriteMissingHints();
  Status CompactLocked();
  Status InstallCompaction(const std::vector<std::shared_ptr<Segment>>& inputs,
                           CompactionWriter* writer);
  bool StepHook(int step) const;

  const Options opts_;
  std::unique_ptr<DirLock> lock_;
  RecoveryReport recovery_;
  KeyIndex index_;

  mutable SegmentTableLock seg_mu_;
  std::map<uint32_t, std::shared_ptr<Segment>> segments_;  // guarded by seg_mu_
  std::atomic<uint32_t> next_segment_id_{1};

  std::mutex write_mu_;
  std::shared_ptr<Segment> active_;  // guarded by write_mu_
  uint64_t end_offset_ = 0;          // guarded by write_mu_
  uint64_t next_seq_ = 1;            // guarded by write_mu_
  std::string write_buf_;            // guarded by write_mu_; reused record encoding buffer
  bool tail_dirty_ = false;          // guarded by write_mu_; a failed append could not be truncated

  std::atomic<uint64_t> log_pos_{0};        // sync token of the latest append
  std::atomic<uint64_t> durable_token_{0};  // highest token covered by an fdatasync
  std::atomic<uint64_t> disk_bytes_{0}, live_bytes_{0}, appends_{0};
  std::atomic<uint64_t> fsyncs_{0}, fsync_ns_{0}, fsync_errors_{0}, compactions_{0};
  std::atomic<bool> unsynced_{false};  // writes since the last fdatasync (everysec)

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stop_ = false;                // guarded by sync_mu_
  std::vector<SyncWaiter> waiters_;  // guarded by sync_mu_
  std::thread syncer_;

  std::mutex compact_mu_;
  std::mutex maint_mu_;
  std::condition_variable maint_cv_;
  bool maint_stop_ = false;         // guarded by maint_mu_
  bool compact_requested_ = false;  // guarded by maint_mu_
  bool hints_wanted_ = false;       // guarded by maint_mu_
  std::atomic<bool> closing_{false};
  bool compaction_broken_ = false;  // guarded by compact_mu_
  std::thread maint_;
};

}  // namespace httpkv::storage
