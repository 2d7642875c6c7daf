// IndexTable: one of KeyIndex's open-addressing hash tables (linear probing) and the
// IndexArena its slots point into.
//
// A slot is 5 bytes: a 1-byte tag (empty, tombstone, or one of 254 values taken from the key's
// hash) and a 4-byte reference to a packed entry in the arena. Readers probe without a lock
// (acquire loads of the slots, inside an Epoch read section); the single writer (KeyIndex,
// under its mutex) stores a new slot's reference before its tag, replaces a reference whole,
// and turns an erased slot into a tombstone. A slot never becomes empty again, so a probe
// never skips a live key. The slots are one anonymous mapping: a large table is zero pages
// touched as it fills (never memset up front), and it is unmapped a slice at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/index_arena.h"

namespace httpkv::storage {

class IndexTable {
 public:
  static constexpr uint8_t kEmpty = 0;
  static constexpr uint8_t kTombstone = 1;
  static constexpr size_t kNotFound = SIZE_MAX;

  // capacity: a power of two. generation: the arena's (IndexArena::kGenerationBit or 0).
  IndexTable(size_t capacity, uint32_t generation);
  ~IndexTable();
  IndexTable(const IndexTable&) = delete;
  IndexTable& operator=(const IndexTable&) = delete;

  static uint64_t Hash(std::string_view key);

  // The slot holding key (*ref: its entry), or kNotFound and, if free_slot is given, the
  // first tombstone or empty slot on key's probe path. Safe for readers.
  size_t Lookup(std::string_view key, uint64_t h, uint32_t* ref, size_t* free_slot = nullptr) const;
  // Reader side: copies key's entry into *out.
  bool Find(std::string_view key, uint64_t h, IndexEntry* out) const;

  bool IsLive(size_t slot) const { return TagAt(slot) > kTombstone; }
  uint32_t RefAt(size_t slot) const {
    return std::atomic_ref<uint32_t>(refs_[slot]).load(std::memory_order_acquire);
  }

  // Writer side. Fill: a free slot from Lookup takes (h's tag, ref). SetRef: a live slot
  // points at a new entry. Bury: a live slot becomes a tombstone.
  void Fill(size_t slot, uint64_t h, uint32_t ref);
  void SetRef(size_t slot, uint32_t ref) {
    std::atomic_ref<uint32_t>(refs_[slot]).store(ref, std::memory_order_release);
  }
  void Bury(size_t slot);

  // Non-empty slots (live or tombstone) after `more` inserts would exceed 0.8 of capacity.
  bool Crowded(size_t more) const { return (used_ + more) * 5 > capacity_ * 4; }
  size_t capacity() const { return capacity_; }

  // Frees up to max arena chunks, else up to kReleaseSlotBytes of slots; true once
  // everything is freed.
  bool ReleaseSome(size_t max_chunks);
  static constexpr size_t kReleaseSlotBytes = size_t{1} << 20;
  size_t memory_bytes() const;

  IndexArena arena;

 private:
  uint8_t TagAt(size_t slot) const {
    return std::atomic_ref<uint8_t>(tags_[slot]).load(std::memory_order_acquire);
  }
  size_t Home(uint64_t h) const { return static_cast<size_t>(h >> 8) & (capacity_ - 1); }

  const size_t capacity_;
  char* slots_;          // the mapping: tags_ then refs_
  size_t mapped_bytes_;  // of slots_ still mapped
  uint8_t* tags_;        // accessed through std::atomic_ref
  uint32_t* refs_;       // accessed through std::atomic_ref
  size_t used_ = 0;      // writer state: non-empty slots
};

}  // namespace httpkv::storage
