#include "storage/index_table.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace httpkv::storage {
namespace {

// 2..255: 0 and 1 mark empty slots and tombstones.
uint8_t TagOf(uint64_t h) {
  return static_cast<uint8_t>(2 + (h >> 56) % 254);
}

size_t PageRound(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

char* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "httpkv: panic: out of memory for a key index table (%zu bytes)\n", bytes);
    std::abort();
  }
  return static_cast<char*>(p);
}

}  // namespace

IndexTable::IndexTable(size_t capacity, uint32_t generation)
    : arena(generation),
      capacity_(capacity),
      slots_(MapZeroed(PageRound(capacity * 5))),
      mapped_bytes_(PageRound(capacity * 5)),
      tags_(reinterpret_cast<uint8_t*>(slots_)),
      refs_(reinterpret_cast<uint32_t*>(slots_ + capacity)) {}  // capacity: a multiple of 4

IndexTable::~IndexTable() {
  if (mapped_bytes_ > 0) munmap(slots_, mapped_bytes_);
}

uint64_t IndexTable::Hash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

size_t IndexTable::Lookup(std::string_view key, uint64_t h, uint32_t* ref,
                          size_t* free_slot) const {
  const uint8_t tag = TagOf(h);
  size_t first_free = kNotFound;
  for (size_t i = Home(h);; i = (i + 1) & (capacity_ - 1)) {
    const uint8_t t = TagAt(i);
    if (t == kEmpty) {
      if (free_slot != nullptr) *free_slot = first_free == kNotFound ? i : first_free;
      return kNotFound;
    }
    if (t == kTombstone) {
      if (first_free == kNotFound) first_free = i;
    } else if (t == tag) {
      const uint32_t r = RefAt(i);
      if (arena.Key(r) == key) {
        *ref = r;
        return i;
      }
    }
  }
}

bool IndexTable::Find(std::string_view key, uint64_t h, IndexEntry* out) const {
  uint32_t ref = 0;
  if (Lookup(key, h, &ref) == kNotFound) return false;
  *out = IndexArena::Decode(arena.At(ref));
  return true;
}

void IndexTable::Fill(size_t slot, uint64_t h, uint32_t ref) {
  if (TagAt(slot) == kEmpty) ++used_;
  SetRef(slot, ref);
  std::atomic_ref<uint8_t>(tags_[slot]).store(TagOf(h), std::memory_order_release);  // after ref
}

void IndexTable::Bury(size_t slot) {
  std::atomic_ref<uint8_t>(tags_[slot]).store(kTombstone, std::memory_order_release);
}

bool IndexTable::ReleaseSome(size_t max_chunks) {
  if (!arena.ReleaseChunks(max_chunks)) return false;
  tags_ = nullptr;
  refs_ = nullptr;
  const size_t slice = std::min(mapped_bytes_, kReleaseSlotBytes);  // both page multiples
  mapped_bytes_ -= slice;
  munmap(slots_ + mapped_bytes_, slice);
  return mapped_bytes_ == 0;
}

size_t IndexTable::memory_bytes() const {
  return sizeof(*this) + mapped_bytes_ + arena.memory_bytes();
}

}  // namespace httpkv::storage
