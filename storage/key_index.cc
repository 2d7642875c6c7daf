// KeyIndex's reads and writes; the incremental move between tables is in key_index_move.cc.
#include "storage/key_index.h"

#include <cstdio>
#include <cstdlib>

#include "storage/epoch.h"
#include "storage/index_table.h"
#include "storage/key_order.h"

namespace httpkv::storage {

namespace {
constexpr size_t kMinCapacity = 16;
constexpr size_t kNotFound = IndexTable::kNotFound;
}  // namespace

KeyIndex::KeyIndex()
    : current_(new IndexTable(kMinCapacity, 0)), order_(std::make_unique<KeyOrder>()) {
  order_->SetArena(&current_.load()->arena);
}

KeyIndex::~KeyIndex() {
  delete current_.load();
}

bool KeyIndex::Find(std::string_view key, IndexEntry* out) const {
  const uint64_t h = IndexTable::Hash(key);
  Epoch::ReadGuard guard;
  const IndexTable* current = current_.load(std::memory_order_seq_cst);
  const IndexTable* from = moving_from_.load(std::memory_order_seq_cst);
  if (current->Find(key, h, out)) return true;
  // Not (yet) moved: the old table holds its latest entry (see the file comment).
  return from != nullptr && from != current && from->Find(key, h, out);
}

void KeyIndex::CheckOutsideReadSection() {
  if (Epoch::InReadSection()) {
    std::fprintf(stderr, "httpkv: panic: KeyIndex written or listed inside a read section\n");
    std::abort();
  }
}

void KeyIndex::InsertNew(std::string_view key, uint64_t h, size_t free_slot, uint32_t ref) {
  Current()->Fill(free_slot, h, ref);
  live_bytes_ += IndexArena::EntryBytes(key.size());
  if (!bulk_loading_) order_->Insert(ref);
  size_.fetch_add(1, std::memory_order_relaxed);
}

bool KeyIndex::Upsert(std::string_view key, const IndexEntry& entry, IndexEntry* previous) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  return UpsertLocked(key, entry, previous, false) == Upserted::kReplaced;
}

KeyIndex::Upserted KeyIndex::UpsertIfNewer(std::string_view key, const IndexEntry& entry,
                                           IndexEntry* previous) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  return UpsertLocked(key, entry, previous, true);
}

KeyIndex::Upserted KeyIndex::UpsertLocked(std::string_view key, const IndexEntry& entry,
                                          IndexEntry* previous, bool only_newer) {
  PrepareWrite(key.size());
  IndexTable* current = Current();
  const uint64_t h = IndexTable::Hash(key);
  uint32_t old_ref = 0;
  size_t free_slot = 0;
  const size_t slot = current->Lookup(key, h, &old_ref, &free_slot);
  IndexTable* from = moving_from_.load(std::memory_order_relaxed);
  IndexTable* holder = current;
  if (slot == kNotFound) {
    if (from == nullptr || from->Lookup(key, h, &old_ref) == kNotFound) {
      InsertNew(key, h, free_slot, current->arena.Append(key, entry));
      return Upserted::kInserted;
    }
    holder = from;  // not moved yet
  }
  *previous = IndexArena::Decode(holder->arena.At(old_ref));
  if (only_newer && previous->version >= entry.version) return Upserted::kNotNewer;
  const uint32_t ref = current->arena.Append(key, entry);
  if (slot != kNotFound) {
    current->SetRef(slot, ref);  // readers see the old entry or the new one, whole
  } else {
    current->Fill(free_slot, h, ref);  // the move skips it from now on
  }
  holder->arena.MarkSuperseded(old_ref);
  return Upserted::kReplaced;
}

bool KeyIndex::Erase(std::string_view key, IndexEntry* previous) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  PrepareWrite(0);
  IndexTable* current = Current();
  IndexTable* from = moving_from_.load(std::memory_order_relaxed);
  const uint64_t h = IndexTable::Hash(key);
  uint32_t ref = 0, from_ref = 0;
  const size_t slot = current->Lookup(key, h, &ref);
  const size_t from_slot = from == nullptr ? kNotFound : from->Lookup(key, h, &from_ref);
  if (slot == kNotFound && from_slot == kNotFound) return false;
  // The old table's slot (the entry or a stale copy of it) first: a reader that sees the
  // key gone from the current table must not find it in the old one.
  if (from_slot != kNotFound) from->Bury(from_slot);
  // Erased entries are marked superseded too: in the current arena, the entries not
  // superseded are exactly the live ones in it (a bulk load walks them).
  if (slot != kNotFound) {
    *previous = IndexArena::Decode(current->arena.At(ref));
    current->Bury(slot);
    current->arena.MarkSuperseded(ref);
  } else {
    *previous = IndexArena::Decode(from->arena.At(from_ref));
    from->arena.MarkSuperseded(from_ref);
  }
  live_bytes_ -= IndexArena::EntryBytes(key.size());
  if (!bulk_loading_) order_->Erase(key);
  size_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

bool KeyIndex::UpdateLocation(std::string_view key, uint64_t version, uint32_t segment,
                              uint64_t offset) {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  PrepareWrite(key.size());
  IndexTable* current = Current();
  IndexTable* from = moving_from_.load(std::memory_order_relaxed);
  const uint64_t h = IndexTable::Hash(key);
  uint32_t ref = 0;
  size_t free_slot = 0;
  const size_t slot = current->Lookup(key, h, &ref, &free_slot);
  IndexTable* holder = current;
  if (slot == kNotFound) {
    if (from == nullptr || from->Lookup(key, h, &ref) == kNotFound) return false;
    holder = from;  // not moved yet
  }
  IndexEntry e = IndexArena::Decode(holder->arena.At(ref));
  if (e.version != version) return false;
  e.segment = segment;
  e.offset = offset;
  const uint32_t moved = current->arena.Append(key, e);
  if (slot != kNotFound) {
    current->SetRef(slot, moved);
  } else {
    current->Fill(free_slot, h, moved);
  }
  holder->arena.MarkSuperseded(ref);
  return true;
}

void KeyIndex::Collect(std::string_view prefix, std::string_view after, size_t max,
                       std::vector<std::pair<std::string, IndexEntry>>* out) const {
  if (max == 0) return;
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  if (bulk_loading_) {
    std::fprintf(stderr, "httpkv: panic: KeyIndex listed during a bulk load\n");
    std::abort();
  }
  const IndexTable* current = Current();
  const IndexTable* from = moving_from_.load(std::memory_order_relaxed);
  // Keys with the prefix are one contiguous range: start at its beginning or after `after`,
  // stop at the first key outside it.
  const bool from_prefix = after < prefix;
  size_t n = 0;
  const KeyOrder& order = *order_;  // the lambda runs under mu_
  order_->ForEachFrom(from_prefix ? prefix : after, from_prefix, [&](uint32_t& ref) {
    const std::string_view key = order.Key(ref);
    if (!key.starts_with(prefix)) return false;
    // A superseded entry's key was rewritten or moved: look it up (not moved yet: the old
    // table has it).
    if (order.Superseded(ref)) {
      const uint64_t h = IndexTable::Hash(key);
      if (current->Lookup(key, h, &ref) == kNotFound && from != nullptr) from->Lookup(key, h, &ref);
    }
    out->emplace_back(std::string(key), IndexArena::Decode(order.At(ref)));
    return ++n < max;
  });
}

size_t KeyIndex::memory_bytes() const {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  size_t bytes = Current()->memory_bytes() + order_->memory_bytes();
  if (previous_ != nullptr) bytes += previous_->memory_bytes();
  for (const Retired& r : retired_) bytes += r.table->memory_bytes();
  return bytes;
}

}  // namespace httpkv::storage
