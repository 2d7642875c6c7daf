#include "storage/key_index.h"

#include <mutex>

namespace httpkv::storage {

bool KeyIndex::Find(std::string_view key, IndexEntry* out) const {
  std::shared_lock lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  *out = it->second;
  return true;
}

bool KeyIndex::Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous) {
  std::unique_lock lock(mu_);
  auto it = map_.lower_bound(key);
  if (it != map_.end() && it->first == key) {
    *previous = it->second;
    it->second = entry;
    return true;
  }
  map_.emplace_hint(it, std::string(key), entry);
  return false;
}

bool KeyIndex::Erase(std::string_view key, IndexEntry* previous) {
  std::unique_lock lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  *previous = it->second;
  map_.erase(it);
  return true;
}

void KeyIndex::Collect(std::string_view prefix, std::string_view after, size_t max,
                       std::vector<std::pair<std::string, IndexEntry>>* out) const {
  std::shared_lock lock(mu_);
  // Start at the later of "first key with prefix" and "first key > after".
  auto it = after >= prefix ? map_.upper_bound(after) : map_.lower_bound(prefix);
  for (size_t n = 0; n < max && it != map_.end(); ++it, ++n) {
    if (!it->first.starts_with(prefix)) break;  // keys with a prefix are contiguous
    out->emplace_back(it->first, it->second);
  }
}

size_t KeyIndex::size() const {
  std::shared_lock lock(mu_);
  return map_.size();
}

}  // namespace httpkv::storage
