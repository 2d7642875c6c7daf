// LogStore: Bitcask-style key-value store over append-only segment files
// (format: storage/FORMAT.md).
//
// Thread safety — every public method may be called from any thread concurrently. The
// fields each mutex guards are marked GUARDED_BY and the functions that need one REQUIRES;
// clang checks both (-Wthread-safety, the `clang` preset; storage/thread_annotations.h).
// Lock order: compact_mu_ -> write_mu_ -> {expiry_mu_, history_mu_, maint_mu_, spare_mu_,
// KeyIndex's internal mutex}; those, sync_mu_ and listener_mu_ are leaves (nothing is taken
// under them). No lock of the store is held while a user callback runs: SyncAsync's done runs
// with none, the change listener (SetChangeListener) under listener_mu_ alone, which exists
// for it.
//   * write_mu_ serialises writers (Put/Delete): precondition check, seq assignment, the
//     append, rollover and the index update happen atomically under it. It guards active_,
//     end_offset_, next_seq_, write_buf_, tail_dirty_, active_has_dead_, active_capacity_
//     and retired_, and is held whenever table_ is replaced. With --fsync always and no
//     group commit the fdatasync runs under it.
//   * Readers take no lock shared with other readers: Get/Read/Scan run inside an
//     Epoch::ReadGuard, load table_ (an immutable id -> Segment table, storage/segment.h),
//     find the segment and copy out of its mapping. A replaced table goes to retired_ and is
//     freed (with any segment only it still held) by the maintenance thread after
//     Epoch::Synchronize(). Compaction repoints index entries before it drops input
//     segments from the table; a reader whose segment is already gone re-reads the index
//     (the entry moved) and retries.
//   * Group commit: sync_mu_ guards waiters_ and stop_; log_pos_ (token of the last append,
//     written under write_mu_) and durable_token_ are atomics. One syncer thread serves both
//     SyncAsync groups and the everysec tick.
//   * compact_mu_ serialises compactions and hint writing (Compact() on the caller's thread,
//     or the maintenance thread); maint_mu_/maint_cv_ carry requests to the maintenance
//     thread, which also prepares the spare segment (spare_mu_ guards spare_).
//   * Expiry: expiry_mu_ guards the expiry heap (expiring writes queue themselves under
//     write_mu_); the expiry thread writes expire records under write_mu_ without it.
//   * history_mu_ guards the term history (BeginTerm and ApplyReplicated take it under
//     write_mu_).
//   * Counters for stats() are atomics; options and the recovery report are immutable after
//     Open.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/dir_lock.h"
#include "storage/env.h"
#include "storage/epoch.h"
#include "storage/histogram.h"
#include "storage/key_index.h"
#include "storage/log_store_types.h"
#include "storage/metered_fs.h"
#include "storage/mutex.h"
#include "storage/record.h"
#include "storage/recovery.h"
#include "storage/segment.h"
#include "storage/status.h"
#include "storage/term_history.h"
#include "storage/thread_annotations.h"

namespace httpkv::storage {

class CompactionWriter;

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

  // The record is written (through the mapping, or with pwrite) before returning; fsync per policy
  // (with kAlways an fdatasync failure returns IOError although the record is in the log and
  // readable). kMustExist & absent -> NotFound; kMustNotExist & present -> PreconditionFailed
  // (result->existed = true); kVersionMatches & (absent or other version) -> PreconditionFailed.
  // Write errors -> NoSpace/IOError with the log and index unchanged. result may be null.
  // expires_at_ms (unix ms, 0: never): the value reads as absent from then on, and the
  // store writes an expire tombstone at that moment (storage/log_store_expiry.cc). A key
  // whose value expired counts as absent for the preconditions.
  Status Put(std::string_view key, std::string_view value, Precondition pre,
             uint64_t expected_version, WriteResult* result, uint64_t expires_at_ms = 0);
  // Appends a tombstone; NotFound if absent.
  Status Delete(std::string_view key, WriteResult* result);
  // Verifies the record (lengths, seq, key and CRC: Corruption on mismatch, never a wrong
  // value) and copies the value into *value, reusing its capacity. meta may be null.
  Status Get(std::string_view key, std::string* value, ValueMeta* meta) const;
  // Zero-copy read: verifies the record as Get does and calls fn(std::string_view value,
  // const ValueMeta&) with a view into the segment's mapping, inside a read section
  // (Epoch::ReadGuard). The view is valid only until fn returns, or for as long as the
  // caller holds its own enclosing Epoch::ReadGuard. fn must not block (no I/O, locks or
  // waiting: compaction and rollover wait for read sections to end) and should only copy.
  template <class Fn>
  Status Read(std::string_view key, Fn&& fn) const {
    Epoch::ReadGuard guard;
    IndexEntry e;
    std::string_view value;
    if (!index_.Find(key, &e)) return Status::NotFound();
    uint64_t expires_at = 0;
    if (Status s = ResolveInReadSection(key, &e, &value, &expires_at); !s.ok()) return s;
    fn(value, ValueMeta{e.version, e.value_size, expires_at});
    return Status::OK();
  }
  // Index only, no disk I/O (an expiring value: its record's expiry is read from the mapping).
  Status Stat(std::string_view key, ValueMeta* meta) const;
  // fn(key, value) in key byte order until it returns false. Locations are snapshotted in
  // pages under the index mutex and read without it, so writers are never blocked by the
  // reads; a write concurrent with a scan may or may not be seen.
  Status Scan(const ScanOptions& opts,
              const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  // Scan, also giving each value's expiry (unix ms, 0: none) read from its record.
  using ScanExpiryFn =
      std::function<bool(std::string_view key, std::string_view value, uint64_t expires_at_ms)>;
  Status ScanWithExpiry(const ScanOptions& opts, const ScanExpiryFn& fn) const;
  Status Sync();  // fdatasync now

  // Group commit: runs done(ctx, status) once an fdatasync that started after the write with
  // `token` completed — one fdatasync covers every write appended so far, from all threads;
  // calls arriving while one is in flight join the next, which starts the moment the
  // previous one returned. done runs on the store's syncer thread, or immediately on the
  // caller's thread when token <= durable_token() (token 0 included). It gets the IOError if
  // that fdatasync failed. Never called with a store lock held; keep it cheap (post to an
  // event loop). The destructor completes pending calls. Allocation-free once the waiter
  // queue reached its peak size.
  void SyncAsync(uint64_t token, SyncDone done, void* ctx);
  // Every write with sync_token <= this is on stable storage.
  uint64_t durable_token() const { return durable_token_.load(std::memory_order_acquire); }
  // Bytes appended to the log so far (the sync token of the newest append).
  uint64_t LogPosition() const { return log_pos_.load(std::memory_order_acquire); }

  // Merges all sealed segments into new ones holding only live records and swaps them in.
  // Blocks until done; reads and writes continue meanwhile.
  Status Compact();
  // Asks the maintenance thread to compact soon; returns immediately.
  void RequestCompaction();

  // Sequence numbers (FORMAT.md "Change feed"). LastSeq: the seq of the newest write visible
  // to readers (0: none ever). FeedSeq: the newest the change feed may show — LastSeq, or
  // with --fsync always the newest that is durable. SeqHorizon: compaction dropped records
  // with seq <= this, so history is complete only after it.
  uint64_t LastSeq() const { return last_seq_.load(std::memory_order_acquire); }
  uint64_t FeedSeq() const {
    return (opts_.fsync == FsyncPolicy::kAlways ? durable_seq_ : last_seq_)
        .load(std::memory_order_acquire);
  }
  uint64_t SeqHorizon() const { return horizon_.load(); }
  // A cursor at the end of the log: nothing written so far will be visited.
  void TailCursor(FeedCursor* c);
  // Visits, in seq order, records with cursor->last_seq < seq <= upper, at most `budget` of
  // them (records skipped by the prefix count too), calling sink for those whose key starts
  // with prefix (their value verified by CRC; others are skipped without reading the value).
  // Reads only the segment mappings inside a read section: no I/O, no lock, no allocation.
  FeedProgress ReadChanges(FeedCursor* cursor, uint64_t upper, std::string_view prefix,
                           size_t budget, ChangeSink sink, void* ctx) const;

  // Replication (storage/log_store_replica.cc, FORMAT.md "Replication").
  // ReadLog: like ReadChanges, but copies whole records (term markers included, as they are
  // in the log) into *out until it holds max_bytes or more; a primary ships them to its
  // replicas. History counts as lost only past max(cursor, floor): a full copy passes the
  // horizon it started at.
  FeedProgress ReadLog(FeedCursor* cursor, uint64_t upper, uint64_t floor, size_t max_bytes,
                       std::string* out) const;
  struct ApplyResult {
    uint64_t records = 0;
    uint64_t last_seq = 0;    // LastSeq() afterwards
    uint64_t sync_token = 0;  // as WriteResult's, for the last record applied
  };
  // A replica appends records from its primary's log (ReadLog's bytes) under their own
  // seqs, each verified (CRC) and past LastSeq() (InvalidArgument otherwise; a gap, as in a
  // full copy, raises the horizon). Keys change as if the primary's writes had been made
  // here; a term marker also extends the term history. Durability as Put's, once per call.
  Status ApplyReplicated(std::string_view records, ApplyResult* result);
  // The primary's log had nothing more up to `seq` (compaction dropped its newest records):
  // numbering goes on after it here too, and the feed has no history up to it (FEED is
  // written first). No-op when seq <= LastSeq().
  Status AdvanceTo(uint64_t seq);
  // A new primary starts `term` (larger than every term so far): HISTORY gets (term, seq),
  // durably, then a term marker record with that seq is appended. *seq may be null.
  Status BeginTerm(uint64_t term, uint64_t* seq);
  TermHistory term_history() const;
  // A replica takes its primary's history for the log it holds (the terms that began at or
  // before LastSeq()): after a full copy, whose term markers compaction may have dropped, it
  // still knows where each term began. Rewrites HISTORY only when it changes.
  Status AdoptTermHistory(const TermHistory& primary);
  uint64_t CurrentTerm() const;  // the newest term in the history (0: none)
  // Cuts the log back to keep_through at the next Open (storage/discard.h).
  Status ScheduleDiscard(uint64_t keep_through);
  // A replica does not write expire records (its primary's arrive in the stream); values
  // still read as absent once expired. On by default.
  void SetExpiryWrites(bool on) { expiry_writes_.store(on, std::memory_order_release); }

  // Called (on the store's expiry thread, holding listener_mu_ and no other lock of the
  // store: keep it to a post; it must not call SetChangeListener) after it wrote expire
  // records, once the feed may show them: fn(ctx). nullptr: none; once SetChangeListener
  // returns, the previous fn is not running and will not be called.
  void SetChangeListener(void (*fn)(void*), void* ctx);
  // Testing seam: the wall clock in unix ms the store uses for expiry.
  static uint64_t NowMs();

  // Test hook (LevelDB's TEST_ style): blocks until the background threads have nothing
  // to do — the maintenance thread no request (compaction, hints, the spare, freeing
  // tables) queued or running, the syncer no SyncAsync waiter queued and no sync in flight,
  // the expiry thread no due expiry queued or being written — waiting on condition
  // variables, never polling. Work that only time brings (a TTL not yet due, the everysec
  // tick) is not waited for. Call it while no other thread uses the store.
  void TEST_WaitIdle();

  Stats stats() const;
  const RecoveryReport& recovery() const { return recovery_; }
  FsyncPolicy fsync_policy() const { return opts_.fsync; }
  const std::string& dir() const { return opts_.dir; }

 private:
  struct SyncWaiter {
    uint64_t token;
    SyncDone done;
    void* ctx;
  };
  explicit LogStore(Options opts);
  // Segment set (log_store_segments.cc).
  Status LoadSegments() REQUIRES(write_mu_);  // Open holds it
  Status OpenSegmentFile(uint32_t id, bool writable, std::shared_ptr<Segment>* out);
  // New active segment `id` mapped at `capacity` (>= segment_bytes): the spare when one is
  // ready and big enough, else an empty file. Installs it in the table (write_mu_ or Open).
  Status CreateActiveSegment(uint32_t id, uint64_t capacity) REQUIRES(write_mu_);
  Status AppendLocked(uint64_t* offset) REQUIRES(write_mu_);
  // Seals the active segment (truncate to its records + fdatasync) and starts the next one,
  // with room for at least `need` bytes.
  Status RollOverLocked(uint64_t need) REQUIRES(write_mu_);
  Status AfterAppendLocked() REQUIRES(write_mu_);
  bool GrowsEarlySpare(const Segment& seg) const REQUIRES(write_mu_);
  bool SwitchToSpareEarly() REQUIRES(write_mu_);
  // Publishes t as the segment table; the old one is freed after Epoch::Synchronize().
  void PublishTableLocked(std::unique_ptr<SegmentTable> t) REQUIRES(write_mu_);
  const SegmentTable& TableLocked() const REQUIRES(write_mu_) { return *table_.load(); }
  void FreeRetiredTables() EXCLUDES(write_mu_);
  // Spare segment (maintenance thread): zero-filled and fdatasynced ahead of the rollover
  // that needs it, so fdatasync on the active segment flushes data only.
  void PrepareSpare() EXCLUDES(spare_mu_);
  void DropSpare() EXCLUDES(spare_mu_);
  // Asks the maintenance thread to compact when dead bytes pass the ratio (cheap: atomics).
  void MaybeRequestCompaction(uint64_t min_dead);
  // Inside a read section: finds e's segment (re-reading the index if compaction moved the
  // entry) and verifies the record; *value views the mapping.
  // *expires_at_ms: the record's expiry (0: none); an expired value is NotFound.
  Status ResolveInReadSection(std::string_view key, IndexEntry* e, std::string_view* value,
                              uint64_t* expires_at_ms) const;
  // The key's live entry (an expired one counts as absent).
  bool FindLiveLocked(std::string_view key, IndexEntry* e, bool* in_index) REQUIRES(write_mu_);
  // Expiry (log_store_expiry.cc).
  void QueueExpiry(std::string_view key, uint64_t seq, uint64_t at_ms) EXCLUDES(expiry_mu_);
  void QueueRecoveredExpiries(const std::vector<std::pair<std::string, uint64_t>>& candidates);
  void ExpiryLoop() EXCLUDES(expiry_mu_);
  void StopExpiry() EXCLUDES(expiry_mu_);
  bool ExpireKey(const std::string& key, uint64_t seq) EXCLUDES(write_mu_, expiry_mu_);
  void NotifyChangeListener() EXCLUDES(listener_mu_);
  Status ReadResolved(std::string_view key, IndexEntry* e, std::string* value,
                      uint64_t* expires_at_ms) const;
  // Log syncs and group commit (log_store_sync.cc); fdatasyncs are counted by fs_.
  // target/appends: log_pos_ and appends_ read (under write_mu_) before the sync started.
  // seq: last_seq_ read together with target.
  Status SyncLockedSegment(const Segment& seg, uint64_t target, uint64_t appends, uint64_t seq);
  Status SyncActive() EXCLUDES(write_mu_);
  void AdvanceDurable(uint64_t target, uint64_t seq);
  // Walks the log in seq order for ReadChanges and ReadLog (log_store_feed.cc).
  enum class WalkStep : uint8_t { kNext, kStop, kBad };
  template <class Visit>
  FeedProgress WalkLog(FeedCursor* c, uint64_t upper, uint64_t floor, size_t budget,
                       Visit&& visit) const;
  // ApplyReplicated's index update for a record (raw: its first byte) appended at offset.
  void IndexReplicatedLocked(const RecordView& rec, const char* raw, uint64_t offset)
      REQUIRES(write_mu_);
  // Publishes a record just appended to active_.
  void PublishSeqLocked(uint64_t seq) REQUIRES(write_mu_);
  // FEED file: the horizon and last seq, written before compaction commits (FORMAT.md).
  Status LoadFeedState(uint64_t* horizon, uint64_t* last_seq);
  Status SaveFeedState(uint64_t horizon, uint64_t last_seq);
  void SyncerLoop() EXCLUDES(sync_mu_);
  // Drops sync_mu_ for the fdatasync and the callbacks.
  void RunSyncGroup() REQUIRES(sync_mu_);
  void StopSyncer() EXCLUDES(sync_mu_);
  // Compaction, hints and the spare (log_store_compact.cc).
  void MaintenanceLoop() EXCLUDES(maint_mu_);
  void StopMaintenance() EXCLUDES(maint_mu_);
  void WriteMissingHints() REQUIRES(compact_mu_) EXCLUDES(write_mu_);
  Status CompactLocked() REQUIRES(compact_mu_) EXCLUDES(write_mu_);
  Status InstallCompaction(const std::vector<std::shared_ptr<Segment>>& inputs,
                           CompactionWriter* writer) REQUIRES(compact_mu_) EXCLUDES(write_mu_);
  // TEST_WaitIdle's view of each thread (log_store_idle.cc), under that thread's mutex.
  bool MaintIdle() const REQUIRES(maint_mu_);
  bool SyncerIdle() const REQUIRES(sync_mu_);
  bool ExpiryIdle() const REQUIRES(expiry_mu_);
  // Every request to a background thread adds one, under that thread's mutex.
  void CountRequest() { bg_requests_.fetch_add(1, std::memory_order_relaxed); }
  std::string PathOf(std::string_view name) const { return opts_.dir + "/" + std::string(name); }

  const Options opts_;
  SyncMeter sync_meter_;
  MeteredFileSystem fs_{opts_.fs, &sync_meter_};  // opts_.fs, every fdatasync counted
  std::unique_ptr<DirLock> lock_;
  RecoveryReport recovery_;
  KeyIndex index_;

  // Readers load it (seq_cst, see epoch.h) inside a read section; replaced under write_mu_.
  std::atomic<const SegmentTable*> table_{nullptr};
  std::atomic<uint32_t> next_segment_id_{1};

  Mutex write_mu_ ACQUIRED_AFTER(compact_mu_);
  std::vector<std::unique_ptr<const SegmentTable>> retired_ GUARDED_BY(write_mu_);
  std::shared_ptr<Segment> active_ GUARDED_BY(write_mu_);
  uint64_t end_offset_ GUARDED_BY(write_mu_) = 0;
  uint64_t next_seq_ GUARDED_BY(write_mu_) = 1;
  std::string write_buf_ GUARDED_BY(write_mu_);         // reused record encoding buffer
  bool tail_dirty_ GUARDED_BY(write_mu_) = false;       // a failed append could not be truncated
  bool active_has_dead_ GUARDED_BY(write_mu_) = false;  // a tombstone or overwritten record
  uint64_t active_capacity_ GUARDED_BY(write_mu_) = 0;  // active_'s mapping length

  std::atomic<uint64_t> last_seq_{0};       // seq of the latest append (written under write_mu_)
  std::atomic<uint64_t> durable_seq_{0};    // highest seq covered by an fdatasync
  std::atomic<uint64_t> horizon_{0};        // compaction dropped records with seq <= this
  std::atomic<uint64_t> log_pos_{0};        // sync token of the latest append
  std::atomic<uint64_t> durable_token_{0};  // highest token covered by an fdatasync
  std::atomic<uint64_t> disk_bytes_{0}, live_bytes_{0}, appends_{0};
  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> spares_prepared_{0};
  std::atomic<uint64_t> synced_appends_{0};  // appends_ covered by the latest log sync
  Histogram<kWritesPerSyncBounds.size()> writes_per_fsync_{kWritesPerSyncBounds};
  std::atomic<bool> unsynced_{false};  // writes since the last fdatasync (everysec)

  Mutex sync_mu_;
  CondVar sync_cv_;
  bool stop_ GUARDED_BY(sync_mu_) = false;
  std::vector<SyncWaiter> waiters_ GUARDED_BY(sync_mu_);
  std::vector<SyncWaiter> ready_;                // syncer thread only: the group being completed
  bool sync_busy_ GUARDED_BY(sync_mu_) = false;  // a group or tick sync in flight
  CondVar sync_idle_cv_;                         // TEST_WaitIdle: sync_busy_ went false
  std::thread syncer_;

  Mutex compact_mu_;
  bool compaction_broken_ GUARDED_BY(compact_mu_) = false;
  Mutex maint_mu_;
  CondVar maint_cv_;
  bool maint_stop_ GUARDED_BY(maint_mu_) = false;
  bool compact_requested_ GUARDED_BY(maint_mu_) = false;
  bool hints_wanted_ GUARDED_BY(maint_mu_) = false;
  bool spare_wanted_ GUARDED_BY(maint_mu_) = false;
  bool reclaim_wanted_ GUARDED_BY(maint_mu_) = false;  // retired_ is not empty
  bool maint_busy_ GUARDED_BY(maint_mu_) = false;      // working on requests
  CondVar maint_idle_cv_;                              // TEST_WaitIdle: maint_busy_ went false
  std::atomic<bool> compact_pending_{false};           // requested and not yet started
  std::thread maint_;
  Mutex spare_mu_;
  std::unique_ptr<File> spare_ GUARDED_BY(spare_mu_);  // DIR/kSpareSegment, zero-filled, durable
  std::atomic<bool> closing_{false};

  struct ExpiryItem {
    uint64_t at_ms;
    uint64_t seq;
    std::string key;
    bool operator>(const ExpiryItem& o) const { return at_ms > o.at_ms; }
  };
  Mutex expiry_mu_ ACQUIRED_AFTER(write_mu_);
  CondVar expiry_cv_;
  std::vector<ExpiryItem> expiry_heap_ GUARDED_BY(expiry_mu_);  // min-heap by at_ms
  bool expiry_stop_ GUARDED_BY(expiry_mu_) = false;
  bool expiry_busy_ GUARDED_BY(expiry_mu_) = false;  // writing due expire records
  CondVar expiry_idle_cv_;                           // TEST_WaitIdle: expiry_busy_ went false
  std::atomic<bool> expiry_writes_{true};
  std::thread expirer_;
  // Held while the change listener runs, and by SetChangeListener (no other lock is taken
  // under it or held when taking it).
  Mutex listener_mu_;
  void (*change_fn_)(void*) GUARDED_BY(listener_mu_) = nullptr;
  void* change_ctx_ GUARDED_BY(listener_mu_) = nullptr;

  mutable Mutex history_mu_ ACQUIRED_AFTER(write_mu_);
  TermHistory history_ GUARDED_BY(history_mu_);
  std::atomic<uint64_t> bg_requests_{0};  // CountRequest(); TEST_WaitIdle
};

}  // namespace httpkv::storage
