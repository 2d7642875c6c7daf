// KeyIndex: in-memory map from key to the location of its latest live record.
//
// Memory-compact and sharded: 32 shards chosen by key hash, each an open-addressing table
// (linear probing, backward-shift deletion) of 5-byte slots (a 1-byte hash tag + a 4-byte
// reference) into a per-shard arena of packed entries (23-byte header + key bytes, 128 KiB
// chunks). ~35 bytes per key on top of the key bytes, versus ~100 for std::map.
//
// Thread-safe: each shard has its own shared_mutex (lookups shared, updates exclusive), so
// readers of different keys do not share a lock and nobody holds one across disk I/O. Find
// allocates nothing. Collect (Scan) has no ordered structure to walk: it selects the
// smallest matching keys from every shard, O(keys) per call; LogStore::Scan grows its batch
// size so a full scan stays O(keys * log(keys)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpkv::storage {

struct IndexEntry {
  uint32_t segment = 0;     // segment id (file DIR/<segment>.log)
  uint32_t value_size = 0;  // bytes of value
  uint64_t offset = 0;      // offset of the record header within the segment (< 2^40)
  uint64_t version = 0;     // seq of the record

  bool operator==(const IndexEntry&) const = default;
};

class KeyIndex {
 public:
  KeyIndex();
  ~KeyIndex();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // Copies the entry for key into *out. No allocation.
  bool Find(std::string_view key, IndexEntry* out) const;

  // Inserts or replaces; returns true and fills *previous if the key existed.
  bool Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous);

  // Removes the key; returns true and fills *previous if it existed.
  bool Erase(std::string_view key, IndexEntry* previous);

  // Compaction's compare-and-swap: moves the entry to (segment, offset) only if it still
  // holds the record with this version (a newer write or a delete wins).
  bool UpdateLocation(std::string_view key, uint64_t version, uint32_t segment, uint64_t offset);

  // Appends up to max entries with keys > after that start with prefix, in byte order.
  void Collect(std::string_view prefix, std::string_view after, size_t max,
               std::vector<std::pair<std::string, IndexEntry>>* out) const;

  size_t size() const;
  // Heap bytes held by the tables and arenas (for stats and the memory benchmark).
  size_t memory_bytes() const;

 private:
  class Shard;
  static constexpr size_t kShards = 32;
  Shard& ShardFor(uint64_t hash) const;

  std::unique_ptr<Shard[]> shards_;
};

}  // namespace httpkv::storage
