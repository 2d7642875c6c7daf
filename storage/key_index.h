// KeyIndex: in-memory map from key to the location of its latest live record.
//
// One open-addressing hash table (linear probing) of 5-byte slots — a 1-byte tag (empty,
// tombstone, or one of 254 values taken from the key's hash) and a 4-byte reference to a packed
// entry in an IndexArena (storage/index_arena.h) — plus a KeyOrder (storage/key_order.h): the same
// references sorted by key, for listings (an entry the table no longer points at is flagged
// superseded, and a listing that meets it looks the key up and repoints the order). About 40
// bytes per key on top of the key bytes (24-byte entry header and padding, ~10 bytes of slots
// at load 0.5, 4-8 bytes of order): 39.8 for 1M 16-byte keys.
//
// Readers (Find) take no lock and write no shared cache line: inside an Epoch::ReadGuard
// (storage/epoch.h) they load the current table with one seq_cst load and probe it with
// acquire loads of the slots. Slots are atomics and arena entries are immutable once a slot
// points at them: an update writes a new entry and swaps the slot's reference; an erase turns
// the slot into a tombstone (never backward-shifted, so a probe never skips a live key);
// a slot never becomes empty again. Growth, too many tombstones or too much garbage (stale
// entries) rebuild everything into a new table (entries copied in key order), which is
// published with one pointer store; the old table is freed after Epoch::Synchronize().
//
// Writers (Upsert, Erase, UpdateLocation) and Collect serialise on one internal mutex: O(1)
// amortised hash work plus O(log n) KeyOrder work for inserts and erases (a rebuild is O(n),
// after Omega(n) writes). Collect holds it while it copies one page: O(log n + max).
// Writers and Collect must not be called inside a read section: a rebuild waits for readers
// while it holds the mutex (they panic instead of deadlocking).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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

class KeyIndex {
 public:
  KeyIndex();
  ~KeyIndex();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // Copies the entry for key into *out. Lock-free, no allocation; any thread, inside a
  // read section or not.
  bool Find(std::string_view key, IndexEntry* out) const;

  // Inserts or replaces; returns true and fills *previous if the key existed.
  bool Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous);

  // Removes the key; returns true and fills *previous if it existed.
  bool Erase(std::string_view key, IndexEntry* previous);

  // Compaction's compare-and-swap: moves the entry to (segment, offset) only if it still
  // holds the record with this version (a newer write or a delete wins).
  bool UpdateLocation(std::string_view key, uint64_t version, uint32_t segment, uint64_t offset);

  // Appends up to max entries with keys > after that start with prefix, in byte order.
  // O(log n + max).
  void Collect(std::string_view prefix, std::string_view after, size_t max,
               std::vector<std::pair<std::string, IndexEntry>>* out) const;

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Heap bytes held by the table, arena and order (for stats and the memory benchmark).
  size_t memory_bytes() const;

 private:
  struct Table;

  // Rebuilds first if the write could overflow the table or the arena, or garbage dominates.
  Table* PrepareWrite(size_t key_len) REQUIRES(mu_);
  void Rebuild(size_t capacity) REQUIRES(mu_);
  // Panics inside a read section (see the file comment); called before taking mu_.
  static void CheckOutsideReadSection();

  mutable Mutex mu_;           // writers and Collect
  std::atomic<Table*> table_;  // replaced under mu_; readers load it in a read section
  std::unique_ptr<KeyOrder> order_ GUARDED_BY(mu_);  // refers into *table_'s arena
  std::atomic<size_t> size_{0};
};

}  // namespace httpkv::storage
