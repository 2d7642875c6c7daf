#include "storage/key_index.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <queue>

namespace httpkv::storage {
namespace {

// Packed entry: seq u64 | offset u40 | segment u32 | value_size u32 | key_len u16 | key.
constexpr size_t kEntryHeader = 23;
constexpr size_t kChunkBits = 17;  // 128 KiB chunks; a u32 ref addresses 4 GiB per shard
constexpr size_t kChunkSize = size_t{1} << kChunkBits;
constexpr size_t kMinCapacity = 16;

uint64_t Hash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}
// Never 0: a zero tag marks an empty slot.
uint8_t TagOf(uint64_t h) {
  return static_cast<uint8_t>((h >> 56) | 1);
}

void Encode(char* p, std::string_view key, const IndexEntry& e) {
  std::memcpy(p, &e.version, 8);
  std::memcpy(p + 8, &e.offset, 5);  // little-endian: the low 40 bits
  std::memcpy(p + 13, &e.segment, 4);
  std::memcpy(p + 17, &e.value_size, 4);
  const auto len = static_cast<uint16_t>(key.size());
  std::memcpy(p + 21, &len, 2);
  std::memcpy(p + kEntryHeader, key.data(), key.size());
}

IndexEntry Decode(const char* p) {
  IndexEntry e;
  std::memcpy(&e.version, p, 8);
  std::memcpy(&e.offset, p + 8, 5);
  std::memcpy(&e.segment, p + 13, 4);
  std::memcpy(&e.value_size, p + 17, 4);
  return e;
}

std::string_view KeyOf(const char* p) {
  uint16_t len;
  std::memcpy(&len, p + 21, 2);
  return {p + kEntryHeader, len};
}

}  // namespace

class KeyIndex::Shard {
 public:
  mutable std::shared_mutex mu;

  // Slot of key, or the empty slot where it would go (found = false). Caller holds mu.
  size_t Probe(std::string_view key, uint64_t h, bool* found) const {
    const uint8_t tag = TagOf(h);
    for (size_t i = Home(h);; i = (i + 1) & (cap_ - 1)) {
      if (tags_[i] == 0) {
        *found = false;
        return i;
      }
      if (tags_[i] == tag && KeyOf(At(refs_[i])) == key) {
        *found = true;
        return i;
      }
    }
  }
  char* EntryAt(size_t slot) const { return At(refs_[slot]); }

  void Insert(size_t slot, uint64_t h, std::string_view key, const IndexEntry& e) {
    const size_t need = kEntryHeader + key.size();
    if (chunks_.empty() || used_ + need > kChunkSize) {
      chunks_.push_back(std::make_unique<char[]>(kChunkSize));
      wasted_ += chunks_.size() > 1 ? kChunkSize - used_ : 0;
      used_ = 0;
    }
    const auto ref = static_cast<uint32_t>(((chunks_.size() - 1) << kChunkBits) | used_);
    Encode(At(ref), key, e);
    used_ += need;
    tags_[slot] = TagOf(h);
    refs_[slot] = ref;
    live_bytes_ += need;
    if (++size_ * 5 > cap_ * 4) Rehash(cap_ * 2);  // keep load <= 0.8
  }

  // Backward-shift deletion keeps probe sequences intact without tombstones.
  void Remove(size_t slot) {
    const size_t freed = kEntryHeader + KeyOf(EntryAt(slot)).size();
    live_bytes_ -= freed;
    wasted_ += freed;
    size_t hole = slot;
    for (size_t i = (slot + 1) & (cap_ - 1); tags_[i] != 0; i = (i + 1) & (cap_ - 1)) {
      const size_t home = Home(Hash(KeyOf(At(refs_[i]))));
      // Move i into the hole if its home is not cyclically within (hole, i].
      if (((i - home) & (cap_ - 1)) >= ((i - hole) & (cap_ - 1))) {
        tags_[hole] = tags_[i];
        refs_[hole] = refs_[i];
        hole = i;
      }
    }
    tags_[hole] = 0;
    --size_;
    if (wasted_ > kChunkSize * 8 && wasted_ > live_bytes_) Rehash(cap_);  // defragment
  }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < cap_; ++i) {
      if (tags_[i] != 0) fn(At(refs_[i]));
    }
  }

  size_t size() const { return size_; }
  size_t memory() const { return cap_ * 5 + chunks_.size() * kChunkSize; }

 private:
  size_t Home(uint64_t h) const { return static_cast<size_t>(h >> 5) & (cap_ - 1); }
  char* At(uint32_t ref) const {
    return chunks_[ref >> kChunkBits].get() + (ref & (kChunkSize - 1));
  }

  // Rebuilds the table with new_cap slots and a fresh, gap-free arena.
  void Rehash(size_t new_cap) {
    auto old_tags = std::move(tags_);
    auto old_refs = std::move(refs_);
    auto old_chunks = std::move(chunks_);
    const size_t old_cap = cap_;
    auto old_at = [&](uint32_t ref) {
      return old_chunks[ref >> kChunkBits].get() + (ref & (kChunkSize - 1));
    };
    Reset(new_cap);
    for (size_t i = 0; i < old_cap; ++i) {
      if (old_tags[i] == 0) continue;
      const char* p = old_at(old_refs[i]);
      const std::string_view key = KeyOf(p);
      const uint64_t h = Hash(key);
      bool found;
      const size_t slot = Probe(key, h, &found);
      Insert(slot, h, key, Decode(p));
    }
  }

 public:
  void Reset(size_t cap) {
    cap_ = cap;
    tags_ = std::make_unique<uint8_t[]>(cap);  // zeroed: all empty
    refs_ = std::make_unique<uint32_t[]>(cap);
    chunks_.clear();
    used_ = size_ = live_bytes_ = wasted_ = 0;
  }

 private:
  size_t cap_ = 0;
  std::unique_ptr<uint8_t[]> tags_;
  std::unique_ptr<uint32_t[]> refs_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t used_ = 0;  // bytes used in the last chunk
  size_t size_ = 0, live_bytes_ = 0, wasted_ = 0;
};

KeyIndex::KeyIndex() : shards_(std::make_unique<Shard[]>(kShards)) {
  for (size_t i = 0; i < kShards; ++i) shards_[i].Reset(kMinCapacity);
}

KeyIndex::~KeyIndex() = default;

KeyIndex::Shard& KeyIndex::ShardFor(uint64_t hash) const {
  return shards_[hash % kShards];
}

bool KeyIndex::Find(std::string_view key, IndexEntry* out) const {
  const uint64_t h = Hash(key);
  Shard& s = ShardFor(h);
  std::shared_lock lock(s.mu);
  bool found;
  const size_t slot = s.Probe(key, h, &found);
  if (found) *out = Decode(s.EntryAt(slot));
  return found;
}

bool KeyIndex::Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous) {
  const uint64_t h = Hash(key);
  Shard& s = ShardFor(h);
  std::unique_lock lock(s.mu);
  bool found;
  const size_t slot = s.Probe(key, h, &found);
  if (!found) {
    s.Insert(slot, h, key, entry);
    return false;
  }
  char* p = s.EntryAt(slot);
  *previous = Decode(p);
  Encode(p, key, entry);  // same key, same size: in place
  return true;
}

bool KeyIndex::Erase(std::string_view key, IndexEntry* previous) {
  const uint64_t h = Hash(key);
  Shard& s = ShardFor(h);
  std::unique_lock lock(s.mu);
  bool found;
  const size_t slot = s.Probe(key, h, &found);
  if (!found) return false;
  *previous = Decode(s.EntryAt(slot));
  s.Remove(slot);
  return true;
}

bool KeyIndex::UpdateLocation(std::string_view key, uint64_t version, uint32_t segment,
                              uint64_t offset) {
  const uint64_t h = Hash(key);
  Shard& s = ShardFor(h);
  std::unique_lock lock(s.mu);
  bool found;
  const size_t slot = s.Probe(key, h, &found);
  if (!found) return false;
  char* p = s.EntryAt(slot);
  IndexEntry e = Decode(p);
  if (e.version != version) return false;
  e.segment = segment;
  e.offset = offset;
  Encode(p, key, e);
  return true;
}

// Bounded max-heap selection of the max smallest matching keys across all shards.
void KeyIndex::Collect(std::string_view prefix, std::string_view after, size_t max,
                       std::vector<std::pair<std::string, IndexEntry>>* out) const {
  if (max == 0) return;
  using Item = std::pair<std::string, IndexEntry>;
  auto less = [](const Item& a, const Item& b) { return a.first < b.first; };
  std::priority_queue<Item, std::vector<Item>, decltype(less)> heap(less);
  for (size_t i = 0; i < kShards; ++i) {
    std::shared_lock lock(shards_[i].mu);
    shards_[i].ForEach([&](const char* p) {
      const std::string_view key = KeyOf(p);
      if (key <= after || !key.starts_with(prefix)) return;
      if (heap.size() == max) {
        if (key >= heap.top().first) return;
        heap.pop();
      }
      heap.emplace(std::string(key), Decode(p));
    });
  }
  const size_t base = out->size();
  out->resize(base + heap.size());
  for (size_t i = out->size(); i > base; --i) {
    (*out)[i - 1] = std::move(const_cast<Item&>(heap.top()));
    heap.pop();
  }
}

size_t KeyIndex::size() const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::shared_lock lock(shards_[i].mu);
    n += shards_[i].size();
  }
  return n;
}

size_t KeyIndex::memory_bytes() const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::shared_lock lock(shards_[i].mu);
    n += shards_[i].memory();
  }
  return n;
}

}  // namespace httpkv::storage
