// KeyIndex: in-memory map from key to the location of its latest live record.
//
// An open-addressing hash table with its arena of packed entries (storage/index_table.h,
// storage/index_arena.h), plus a KeyOrder (storage/key_order.h): references to the entries
// sorted by key, for listings (an entry the table no longer points at is flagged superseded,
// and a listing that meets it looks the key up and repoints the order). About 39 bytes per key
// on top of the key bytes (24-byte entry header and padding, 6-13 bytes of slots at load
// 0.4-0.8, 4-8 bytes of order): memory_bytes() says 38.6 for 1M 16-byte keys inserted in
// random order and 38.7 for 10M. While a move is under way both tables and both arenas exist
// (up to about twice that, for a while).
//
// Readers (Find) take no lock and write no shared cache line: inside an Epoch::ReadGuard
// (storage/epoch.h) they load the current table, then the table being moved from (if any), and
// probe the first, then the second.
//
// Growth without a pause. When the table gets crowded (load 0.8, tombstones included) or its
// arena holds more garbage (stale entries) than live entries, a new table with a fresh arena
// (the other generation) becomes current and the old one is drained into it incrementally:
//  1. Moving: every write first copies the live entries of the next kMoveSlotsPerWrite slots
//     of the old table into the new one (unless the key was written there since). Writes go to
//     the new table only; the old table's slots never change except that an erase also buries
//     the key there (first), so a reader that misses in the new table finds in the old one
//     either nothing or the entry the key had when the reader probed the new table.
//  2. Repointing: once the old table is unpublished, every write repoints the next
//     kRepointPerWrite references of the KeyOrder that still point into the old arena.
//  3. The old table is freed after an epoch grace period, kReleaseChunksPerWrite arena chunks
//     per write. The next move can start after phase 2: the new table has room for the
//     inserts of phases 1-2 by a wide margin (see NewCapacity in key_index_move.cc).
// So a write costs O(1) hash work plus bounded move work plus O(log n) KeyOrder work for
// inserts and erases; no write waits for readers.
//
// Recovery fills the index between BeginBulkLoad and EndBulkLoad: the order is not
// maintained (no Collect meanwhile), growth rehashes the slots at once and keeps the arena
// (garbage moves copy at once), and EndBulkLoad sorts the keys once. Writers (Upsert, Erase,
// UpdateLocation) and Collect serialise on one internal mutex; Collect holds it while it copies one
// page: O(log n + max). Writers and Collect must not be called inside a read section (they panic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/mutex.h"
#include "storage/thread_annotations.h"

namespace httpkv::storage {

struct IndexEntry {
  uint32_t segment = 0;     // segment id (file DIR/<segment>.log), < 2^31
  uint32_t value_size = 0;  // bytes of value
  uint64_t offset = 0;      // offset of the record header within the segment (< 2^40)
  uint64_t version = 0;     // seq of the record
  // The record is a kPutExpiring: its expiry is read from the record (a key without a TTL
  // costs nothing). Packed as bit 31 of the segment id in the arena.
  bool expires = false;

  bool operator==(const IndexEntry&) const = default;
};

// Bytes of the record an entry points at (header, key, value and any expiry trailer; the
// layout is in storage/record.h, FORMAT.md).
inline uint64_t EntryRecordSize(size_t key_len, const IndexEntry& e) {
  return 20 + key_len + uint64_t{e.value_size} + (e.expires ? 8 : 0);
}

class KeyOrder;
class IndexTable;

class KeyIndex {
 public:
  static constexpr size_t kMoveSlotsPerWrite = 64;
  static constexpr size_t kRepointPerWrite = 64;
  static constexpr size_t kReleaseChunksPerWrite = 4;

  KeyIndex();
  ~KeyIndex();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // Copies the entry for key into *out. Lock-free, no allocation; any thread, inside a
  // read section or not.
  bool Find(std::string_view key, IndexEntry* out) const;

  // Inserts or replaces; returns true and fills *previous if the key existed.
  bool Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous);

  // Recovery's seq rule in one probe: inserts, or replaces an entry with a smaller version
  // (kReplaced, *previous filled), or leaves a newer or equal one alone (kNotNewer, *previous
  // filled).
  enum class Upserted { kInserted, kReplaced, kNotNewer };
  Upserted UpsertIfNewer(std::string_view key, const IndexEntry& entry, IndexEntry* previous);

  // Removes the key; returns true and fills *previous if it existed.
  bool Erase(std::string_view key, IndexEntry* previous);

  // Compaction's compare-and-swap: moves the entry to (segment, offset) only if it still
  // holds the record with this version (a newer write or a delete wins).
  bool UpdateLocation(std::string_view key, uint64_t version, uint32_t segment, uint64_t offset);

  // Appends up to max entries with keys > after that start with prefix, in byte order.
  // O(log n + max).
  void Collect(std::string_view prefix, std::string_view after, size_t max,
               std::vector<std::pair<std::string, IndexEntry>>* out) const;

  // Recovery's bulk load (see the file comment). BeginBulkLoad requires an empty index that
  // no other thread uses until EndBulkLoad (growth then swaps tables without a grace period).
  void BeginBulkLoad();
  void EndBulkLoad();

  // For tests and benchmarks: true while a move (phases 1-3) is under way; FinishMoves runs
  // what is left of them now (waiting for readers to leave the old table).
  bool MoveInProgress() const;
  void FinishMoves();

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Heap bytes held by the tables, arenas and order (for stats and the memory benchmark).
  size_t memory_bytes() const;

 private:
  enum class Phase { kIdle, kMoving, kRepointing };
  struct Retired {
    std::unique_ptr<IndexTable> table;
    uint64_t grace_token;  // 0 once the grace period is over
  };

  IndexTable* Current() const { return current_.load(std::memory_order_relaxed); }
  // Does the bounded move work of one write, then starts a move if the current table is
  // crowded, its arena is full or wasteful.
  void PrepareWrite(size_t key_len) REQUIRES(mu_);
  size_t NewCapacity() const REQUIRES(mu_);
  void StartMove(size_t capacity) REQUIRES(mu_);
  void GrowInBulk(size_t capacity) REQUIRES(mu_);
  void MoveSlots(size_t n) REQUIRES(mu_);
  void MoveSlot(size_t slot) REQUIRES(mu_);
  void RepointOrder(size_t n) REQUIRES(mu_);
  void ReleaseRetired(size_t chunks) REQUIRES(mu_);
  void FinishMove() REQUIRES(mu_);
  Upserted UpsertLocked(std::string_view key, const IndexEntry& entry, IndexEntry* previous,
                        bool only_newer) REQUIRES(mu_);
  // Inserts key (absent from both tables) into the current table at free_slot.
  void InsertNew(std::string_view key, uint64_t h, size_t free_slot, uint32_t ref) REQUIRES(mu_);
  void BuildOrder() REQUIRES(mu_);
  // Panics inside a read section (see the file comment); called before taking mu_.
  static void CheckOutsideReadSection();

  mutable Mutex mu_;  // writers and Collect
  // Replaced under mu_; readers load them (seq_cst) in a read section. current_ is owned here.
  std::atomic<IndexTable*> current_;
  std::atomic<IndexTable*> moving_from_{nullptr};         // previous_ during phase 1, else null
  std::unique_ptr<IndexTable> previous_ GUARDED_BY(mu_);  // the table moved from, phases 1-2
  std::deque<Retired> retired_ GUARDED_BY(mu_);           // phase 3, oldest first
  Phase phase_ GUARDED_BY(mu_) = Phase::kIdle;
  size_t move_cursor_ GUARDED_BY(mu_) = 0;        // phase 1: next slot of previous_
  std::string repoint_cursor_ GUARDED_BY(mu_);    // phase 2: last key repointed
  bool repoint_started_ GUARDED_BY(mu_) = false;  // phase 2: repoint_cursor_ is set
  uint64_t previous_grace_token_ GUARDED_BY(mu_) = 0;
  std::unique_ptr<KeyOrder> order_ GUARDED_BY(mu_);
  bool bulk_loading_ GUARDED_BY(mu_) = false;
  size_t live_bytes_ GUARDED_BY(mu_) = 0;  // IndexArena::EntryBytes of the live keys
  std::atomic<size_t> size_{0};
};

}  // namespace httpkv::storage
