#include "storage/key_index.h"

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "storage/epoch.h"
#include "storage/index_arena.h"
#include "storage/key_order.h"

namespace httpkv::storage {
namespace {

constexpr uint8_t kEmpty = 0;
constexpr uint8_t kTombstone = 1;
constexpr size_t kMinCapacity = 16;
constexpr size_t kMinGarbageBytes = size_t{1} << 20;
constexpr size_t kNotFound = SIZE_MAX;

static_assert(sizeof(std::atomic<uint8_t>) == 1 && sizeof(std::atomic<uint32_t>) == 4);

uint64_t Hash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}
// 2..255: 0 and 1 mark empty slots and tombstones.
uint8_t TagOf(uint64_t h) {
  return static_cast<uint8_t>(2 + (h >> 56) % 254);
}

// Slots for keys at a load of at most 0.6 (a rebuild happens at 0.8, tombstones included).
size_t CapacityFor(size_t keys) {
  size_t cap = kMinCapacity;
  while (keys * 5 > cap * 3) cap *= 2;
  return cap;
}

// Entries never straddle chunks, so a chunk is at least half full of entries: a directory
// of 4x the chunks the live entries fill leaves room for as many bytes again.
size_t ChunksFor(size_t live_bytes) {
  return std::min(IndexArena::kMaxChunks, 4 * (live_bytes / IndexArena::kChunkBytes + 1) + 16);
}

}  // namespace

struct KeyIndex::Table {
  Table(size_t cap, size_t max_chunks)
      : capacity(cap),
        tags(std::make_unique<std::atomic<uint8_t>[]>(cap)),
        refs(std::make_unique<std::atomic<uint32_t>[]>(cap)),
        arena(max_chunks) {}

  size_t Home(uint64_t h) const { return static_cast<size_t>(h >> 8) & (capacity - 1); }

  // The slot holding key (*ref: its entry), or kNotFound and, if free_slot is given, the
  // first tombstone or empty slot on key's probe path. Safe for readers.
  size_t Lookup(std::string_view key, uint64_t h, uint32_t* ref,
                size_t* free_slot = nullptr) const {
    const uint8_t tag = TagOf(h);
    size_t first_free = kNotFound;
    for (size_t i = Home(h);; i = (i + 1) & (capacity - 1)) {
      const uint8_t t = tags[i].load(std::memory_order_acquire);
      if (t == kEmpty) {
        if (free_slot != nullptr) *free_slot = first_free == kNotFound ? i : first_free;
        return kNotFound;
      }
      if (t == kTombstone) {
        if (first_free == kNotFound) first_free = i;
      } else if (t == tag) {
        const uint32_t r = refs[i].load(std::memory_order_acquire);
        if (arena.Key(r) == key) {
          *ref = r;
          return i;
        }
      }
    }
  }

  size_t memory_bytes() const {
    return sizeof(*this) + capacity * (sizeof(tags[0]) + sizeof(refs[0])) + arena.memory_bytes();
  }

  const size_t capacity;  // a power of two
  const std::unique_ptr<std::atomic<uint8_t>[]> tags;
  const std::unique_ptr<std::atomic<uint32_t>[]> refs;
  IndexArena arena;
  // Writer state, guarded by KeyIndex::mu_. Bytes are IndexArena::EntryBytes.
  size_t live = 0, tombstones = 0, live_bytes = 0, garbage_bytes = 0;
};

KeyIndex::KeyIndex() : table_(new Table(kMinCapacity, ChunksFor(0))) {
  order_ = std::make_unique<KeyOrder>(&table_.load()->arena);
}

KeyIndex::~KeyIndex() {
  order_.reset();
  delete table_.load();
}

bool KeyIndex::Find(std::string_view key, IndexEntry* out) const {
  const uint64_t h = Hash(key);
  Epoch::ReadGuard guard;
  const Table* t = table_.load(std::memory_order_seq_cst);
  uint32_t ref = 0;
  if (t->Lookup(key, h, &ref) == kNotFound) return false;
  *out = IndexArena::Decode(t->arena.At(ref));
  return true;
}

KeyIndex::Table* KeyIndex::PrepareWrite(size_t key_len) {
  Table* t = table_.load(std::memory_order_relaxed);
  const bool crowded = (t->live + t->tombstones + 1) * 5 > t->capacity * 4;
  const bool wasteful = t->garbage_bytes > kMinGarbageBytes && t->garbage_bytes > t->live_bytes;
  if (!crowded && !wasteful && t->arena.HasRoom(key_len)) return t;
  Rebuild(CapacityFor(t->live + 1));
  t = table_.load(std::memory_order_relaxed);
  if (!t->arena.HasRoom(key_len)) {
    std::fprintf(stderr, "httpkv: panic: key index arena full (%zu chunks)\n",
                 t->arena.max_chunks());
    std::abort();
  }
  return t;
}

// Copies the live entries in key order into a fresh table and arena, publishes it and frees
// the old one once no reader can be inside it.
void KeyIndex::Rebuild(size_t capacity) {
  Table* old = table_.load(std::memory_order_relaxed);
  auto fresh = std::make_unique<Table>(capacity, ChunksFor(old->live_bytes));
  auto order = std::make_unique<KeyOrder>(&fresh->arena);
  order_->ForEachFrom({}, true, [&](uint32_t& ref) {
    const std::string_view key = old->arena.Key(ref);
    const uint64_t h = Hash(key);
    uint32_t current = ref;
    if (old->arena.Superseded(ref)) old->Lookup(key, h, &current);  // the order's keys are live
    const uint32_t moved = fresh->arena.AppendCopy(old->arena.At(current));
    size_t i = fresh->Home(h);
    while (fresh->tags[i].load(std::memory_order_relaxed) != kEmpty) i = (i + 1) & (capacity - 1);
    fresh->refs[i].store(moved, std::memory_order_relaxed);
    fresh->tags[i].store(TagOf(h), std::memory_order_relaxed);
    order->Append(moved);
    return true;
  });
  fresh->live = old->live;
  fresh->live_bytes = old->live_bytes;
  table_.store(fresh.release(), std::memory_order_seq_cst);  // publishes the relaxed stores
  order_ = std::move(order);
  Epoch::Synchronize();  // every reader that could have loaded old has left
  delete old;
}

void KeyIndex::CheckOutsideReadSection() {
  if (Epoch::InReadSection()) {  // a rebuild under mu_ would wait for this thread forever
    std::fprintf(stderr, "httpkv: panic: KeyIndex written or listed inside a read section\n");
    std::abort();
  }
}

bool KeyIndex::Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  Table* t = PrepareWrite(key.size());
  const uint64_t h = Hash(key);
  uint32_t old_ref = 0;
  size_t free_slot = 0;
  const size_t slot = t->Lookup(key, h, &old_ref, &free_slot);
  const uint32_t ref = t->arena.Append(key, entry);
  const size_t bytes = IndexArena::EntryBytes(key.size());
  if (slot != kNotFound) {
    *previous = IndexArena::Decode(t->arena.At(old_ref));
    t->refs[slot].store(ref, std::memory_order_release);  // readers see old or new, whole
    t->arena.MarkSuperseded(old_ref);
    t->garbage_bytes += bytes;
    return true;
  }
  if (t->tags[free_slot].load(std::memory_order_relaxed) == kTombstone) --t->tombstones;
  t->refs[free_slot].store(ref, std::memory_order_release);
  t->tags[free_slot].store(TagOf(h), std::memory_order_release);  // after the ref
  ++t->live;
  t->live_bytes += bytes;
  order_->Insert(ref);
  size_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool KeyIndex::Erase(std::string_view key, IndexEntry* previous) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  Table* t = PrepareWrite(0);
  uint32_t ref = 0;
  const size_t slot = t->Lookup(key, Hash(key), &ref);
  if (slot == kNotFound) return false;
  *previous = IndexArena::Decode(t->arena.At(ref));
  t->tags[slot].store(kTombstone, std::memory_order_release);
  const size_t bytes = IndexArena::EntryBytes(key.size());
  --t->live;
  ++t->tombstones;
  t->live_bytes -= bytes;
  t->garbage_bytes += bytes;
  order_->Erase(key);
  size_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

bool KeyIndex::UpdateLocation(std::string_view key, uint64_t version, uint32_t segment,
                              uint64_t offset) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  Table* t = PrepareWrite(key.size());
  uint32_t ref = 0;
  const size_t slot = t->Lookup(key, Hash(key), &ref);
  if (slot == kNotFound) return false;
  IndexEntry e = IndexArena::Decode(t->arena.At(ref));
  if (e.version != version) return false;
  e.segment = segment;
  e.offset = offset;
  t->refs[slot].store(t->arena.Append(key, e), std::memory_order_release);
  t->arena.MarkSuperseded(ref);
  t->garbage_bytes += IndexArena::EntryBytes(key.size());
  return true;
}

void KeyIndex::Collect(std::string_view prefix, std::string_view after, size_t max,
                       std::vector<std::pair<std::string, IndexEntry>>* out) const {
  if (max == 0) return;
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  const Table* t = table_.load(std::memory_order_relaxed);
  // Keys with the prefix are one contiguous range: start at its beginning or after `after`,
  // stop at the first key outside it.
  const bool from_prefix = after < prefix;
  size_t n = 0;
  order_->ForEachFrom(from_prefix ? prefix : after, from_prefix, [&](uint32_t& ref) {
    const std::string_view key = t->arena.Key(ref);
    if (!key.starts_with(prefix)) return false;
    if (t->arena.Superseded(ref)) t->Lookup(key, Hash(key), &ref);  // repoint the order
    out->emplace_back(std::string(key), IndexArena::Decode(t->arena.At(ref)));
    return ++n < max;
  });
}

size_t KeyIndex::memory_bytes() const {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  return table_.load(std::memory_order_relaxed)->memory_bytes() + order_->memory_bytes();
}

}  // namespace httpkv::storage
