// KeyIndex's incremental move from a crowded or wasteful table to a fresh one (phases 1-3 of
// the file comment of key_index.h) and the bulk load's one-sort order build.
#include <cstdio>
#include <cstdlib>

#include "storage/epoch.h"
#include "storage/index_table.h"
#include "storage/key_index.h"
#include "storage/key_order.h"
#include "storage/key_sort.h"

namespace httpkv::storage {

namespace {
constexpr size_t kMinGarbageBytes = size_t{1} << 20;
constexpr size_t kNotFound = IndexTable::kNotFound;

// Slots for keys at a load of at most 0.6.
size_t CapacityFor(size_t keys) {
  size_t cap = 16;
  while (keys * 5 > cap * 3) cap *= 2;
  return cap;
}
}  // namespace

void KeyIndex::PrepareWrite(size_t key_len) {
  switch (phase_) {
    case Phase::kIdle:
      break;
    case Phase::kMoving:
      MoveSlots(kMoveSlotsPerWrite);
      break;
    case Phase::kRepointing:
      RepointOrder(kRepointPerWrite);
      break;
  }
  ReleaseRetired(kReleaseChunksPerWrite);
  IndexTable* current = Current();
  const bool crowded = current->Crowded(1);
  const bool full = !current->arena.HasRoom(key_len);
  const size_t garbage = current->arena.appended_bytes() - live_bytes_;  // when idle
  const bool wasteful = garbage > kMinGarbageBytes && garbage > live_bytes_;
  if (!crowded && !full && !(wasteful && phase_ == Phase::kIdle)) return;
  if (bulk_loading_ && !wasteful && !full) {
    GrowInBulk(NewCapacity());
    return;
  }
  // Not expected: a move ends long before the new table fills (see NewCapacity).
  if (phase_ != Phase::kIdle) FinishMove();
  StartMove(NewCapacity());
  if (bulk_loading_) FinishMove();
  if (!Current()->arena.HasRoom(key_len)) {
    std::fprintf(stderr, "httpkv: panic: key index arena full (%zu chunks)\n",
                 IndexArena::kMaxChunks);
    std::abort();
  }
}

// At most 0.6 full with the live keys, and at least 1/8 of the old capacity: phase 1 takes
// capacity / kMoveSlotsPerWrite writes, so it adds at most 1/8 of the new capacity, and phase
// 2 (live / kRepointPerWrite writes) less than 1/100: the table stays below 0.8 (crowded).
size_t KeyIndex::NewCapacity() const {
  const size_t old_capacity = Current()->capacity();
  return std::max(CapacityFor(size() + 1), old_capacity / 8);
}

void KeyIndex::StartMove(size_t capacity) {
  IndexTable* from = Current();
  auto* to = new IndexTable(capacity, from->arena.generation() ^ IndexArena::kGenerationBit);
  order_->SetArena(&to->arena);  // the order has no references of this generation left
  previous_.reset(from);
  // Readers that see the new table also see the old one (loaded after it, stored before it).
  moving_from_.store(from, std::memory_order_seq_cst);
  current_.store(to, std::memory_order_seq_cst);
  phase_ = Phase::kMoving;
  move_cursor_ = 0;
}

// A bulk load's growth: nobody else reads the index yet, so the new table takes the old
// one's arena (same generation) as it is and only the slots are rehashed.
void KeyIndex::GrowInBulk(size_t capacity) {
  std::unique_ptr<IndexTable> from(Current());
  auto* to = new IndexTable(capacity, from->arena.generation());
  to->arena.TakeEntries(&from->arena);
  // The live entries are the ones not superseded (an erase marks its entry too); walking the
  // arena in order reads the keys sequentially.
  to->arena.ForEachEntry([&](uint32_t ref) {
    if (to->arena.Superseded(ref)) return;
    const std::string_view key = to->arena.Key(ref);
    const uint64_t h = IndexTable::Hash(key);
    uint32_t found = 0;
    size_t free_slot = 0;
    to->Lookup(key, h, &found, &free_slot);
    to->Fill(free_slot, h, ref);
  });
  order_->SetArena(&to->arena);
  current_.store(to, std::memory_order_seq_cst);
}

void KeyIndex::MoveSlot(size_t slot) {
  const IndexTable& from = *previous_;
  if (!from.IsLive(slot)) return;
  const uint32_t ref = from.RefAt(slot);
  const char* entry = from.arena.At(ref);
  const std::string_view key = IndexArena::KeyOf(entry);
  const uint64_t h = IndexTable::Hash(key);
  IndexTable* to = Current();
  uint32_t found = 0;
  size_t free_slot = 0;
  if (to->Lookup(key, h, &found, &free_slot) != kNotFound) return;  // rewritten since
  to->Fill(free_slot, h, to->arena.AppendCopy(entry));
  previous_->arena.MarkSuperseded(ref);  // listings look it up in the new table
}

void KeyIndex::MoveSlots(size_t n) {
  const size_t end = std::min(previous_->capacity(), move_cursor_ + std::min(n, SIZE_MAX / 2));
  for (; move_cursor_ < end; ++move_cursor_) MoveSlot(move_cursor_);
  if (move_cursor_ < previous_->capacity()) return;
  moving_from_.store(nullptr, std::memory_order_seq_cst);  // every live key is in current_
  previous_grace_token_ = Epoch::StartGracePeriod();
  phase_ = Phase::kRepointing;
  repoint_cursor_.clear();
  repoint_started_ = false;
}

// Repoints the order's next n references into the old arena at the current table's entries
// (every key in the order is live, hence in the current table).
void KeyIndex::RepointOrder(size_t n) {
  const IndexTable* current = Current();
  const uint32_t generation = current->arena.generation();
  size_t seen = 0;
  bool more = false;
  std::string_view last;
  const KeyOrder& order = *order_;  // the lambda runs under mu_
  order_->ForEachFrom(repoint_cursor_, !repoint_started_, [&](uint32_t& ref) {
    if (seen++ == n) {
      more = true;
      return false;
    }
    last = order.Key(ref);
    if (IndexArena::GenerationOf(ref) != generation &&
        current->Lookup(last, IndexTable::Hash(last), &ref) == kNotFound) {
      std::fprintf(stderr, "httpkv: panic: key index order holds a key the table lacks\n");
      std::abort();
    }
    return true;
  });
  if (more) {
    repoint_cursor_.assign(last);
    repoint_started_ = true;
    return;
  }
  retired_.push_back(Retired{std::move(previous_), previous_grace_token_});
  phase_ = Phase::kIdle;
}

void KeyIndex::ReleaseRetired(size_t chunks) {
  if (retired_.empty()) return;
  Retired& oldest = retired_.front();
  if (oldest.grace_token != 0) {
    if (!Epoch::GracePeriodOver(oldest.grace_token)) return;
    oldest.grace_token = 0;  // over: no need to look at the readers again
  }
  if (oldest.table->ReleaseSome(chunks)) retired_.pop_front();
}

void KeyIndex::FinishMove() {
  if (phase_ == Phase::kMoving) MoveSlots(SIZE_MAX);
  if (phase_ == Phase::kRepointing) RepointOrder(SIZE_MAX);
}

bool KeyIndex::MoveInProgress() const {
  MutexLock lock(&mu_);
  return phase_ != Phase::kIdle || !retired_.empty();
}

void KeyIndex::FinishMoves() {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  FinishMove();
  Epoch::Synchronize();
  retired_.clear();
}

void KeyIndex::BeginBulkLoad() {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  if (size() != 0) {
    std::fprintf(stderr, "httpkv: panic: KeyIndex bulk load into a non-empty index\n");
    std::abort();
  }
  FinishMove();
  bulk_loading_ = true;
}

void KeyIndex::EndBulkLoad() {
  CheckOutsideReadSection();
  MutexLock lock(&mu_);
  if (!bulk_loading_) return;
  FinishMove();
  BuildOrder();
  bulk_loading_ = false;
  Epoch::Synchronize();  // at Open: nobody reads the old tables
  retired_.clear();
}

// The live keys' references, sorted once.
void KeyIndex::BuildOrder() {
  const IndexTable& current = *Current();
  std::vector<uint32_t> refs;
  refs.reserve(size());
  current.arena.ForEachEntry([&](uint32_t ref) {  // in arena order: the sort reads it in order
    if (!current.arena.Superseded(ref)) refs.push_back(ref);
  });
  SortRefsByKey(current.arena, &refs);
  order_->Clear();
  for (uint32_t ref : refs) order_->Append(ref);
}

}  // namespace httpkv::storage
