// KeyIndex: in-memory map from key to the location of its latest live record.
//
// Thread-safe on its own (an internal std::shared_mutex: lookups shared, updates exclusive),
// so callers never hold it across disk I/O. Kept behind this small interface so the
// std::map can later become a hash table or a sharded structure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpkv::storage {

struct IndexEntry {
  uint32_t segment = 0;     // segment id (file DIR/<segment>.log)
  uint32_t value_size = 0;  // bytes of value
  uint64_t offset = 0;      // offset of the record header within the segment
  uint64_t version = 0;     // seq of the record

  bool operator==(const IndexEntry&) const = default;
};

class KeyIndex {
 public:
  // Copies the entry for key into *out. No allocation (heterogeneous lookup).
  bool Find(std::string_view key, IndexEntry* out) const;

  // Inserts or replaces; returns true and fills *previous if the key existed.
  bool Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous);

  // Removes the key; returns true and fills *previous if it existed.
  bool Erase(std::string_view key, IndexEntry* previous);

  // Appends up to max entries with keys > after that start with prefix, in byte order.
  void Collect(std::string_view prefix, std::string_view after, size_t max,
               std::vector<std::pair<std::string, IndexEntry>>* out) const;

  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, IndexEntry, std::less<>> map_;  // guarded by mu_
};

}  // namespace httpkv::storage
