#include "storage/key_order.h"

#include <algorithm>
#include <cstring>

namespace httpkv::storage {

KeyOrder::Pos KeyOrder::Position(std::string_view key, bool inclusive) const {
  // before(k): k sorts before the position sought.
  auto before = [&](uint32_t ref) {
    const std::string_view k = arena_->Key(ref);
    return inclusive ? k < key : k <= key;
  };
  if (blocks_.empty()) return {0, 0};
  // The last block whose first key is <= key (or the first block).
  const auto it = std::partition_point(blocks_.begin(), blocks_.end(), [&](const auto& b) {
    return arena_->Key(b->refs[0]) <= key;
  });
  const size_t b = it == blocks_.begin() ? 0 : static_cast<size_t>(it - blocks_.begin()) - 1;
  const Block& blk = *blocks_[b];
  const uint32_t* i = std::partition_point(blk.refs, blk.refs + blk.n, before);
  return {b, static_cast<size_t>(i - blk.refs)};
}

void KeyOrder::Insert(uint32_t ref) {
  if (blocks_.empty()) {
    Append(ref);
    return;
  }
  InsertAt(Position(arena_->Key(ref), true), ref);
}

void KeyOrder::InsertAt(Pos pos, uint32_t ref) {
  Block* blk = blocks_[pos.block].get();
  if (blk->n == kBlock) {
    auto next = std::make_unique<Block>();
    if (pos.index == kBlock) {  // past the end: start a new block (keeps ascending runs dense)
      next->refs[next->n++] = ref;
      blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(pos.block) + 1, std::move(next));
      ++size_;
      return;
    }
    constexpr size_t kHalf = kBlock / 2;
    std::memcpy(next->refs, blk->refs + kHalf, kHalf * sizeof(uint32_t));
    next->n = kHalf;
    blk->n = kHalf;
    Block* target = blk;
    if (pos.index > kHalf) {
      target = next.get();
      pos.index -= kHalf;
    }
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(pos.block) + 1, std::move(next));
    blk = target;
  }
  std::memmove(blk->refs + pos.index + 1, blk->refs + pos.index,
               (blk->n - pos.index) * sizeof(uint32_t));
  blk->refs[pos.index] = ref;
  ++blk->n;
  ++size_;
}

void KeyOrder::Erase(std::string_view key) {
  const Pos pos = Position(key, true);
  if (blocks_.empty() || pos.index == blocks_[pos.block]->n) return;  // absent: nothing to do
  if (arena_->Key(blocks_[pos.block]->refs[pos.index]) != key) return;
  RemoveAt(pos);
}

void KeyOrder::RemoveAt(Pos pos) {
  Block* blk = blocks_[pos.block].get();
  std::memmove(blk->refs + pos.index, blk->refs + pos.index + 1,
               (blk->n - pos.index - 1) * sizeof(uint32_t));
  --blk->n;
  --size_;
  const auto at = blocks_.begin() + static_cast<ptrdiff_t>(pos.block);
  if (blk->n == 0) {
    blocks_.erase(at);
    return;
  }
  // Merge a sparse block into its successor's room so erases cannot leave many tiny blocks.
  if (pos.block + 1 < blocks_.size() && blk->n + at[1]->n <= kBlock / 2) {
    Block* next = at[1].get();
    std::memcpy(blk->refs + blk->n, next->refs, next->n * sizeof(uint32_t));
    blk->n += next->n;
    blocks_.erase(at + 1);
  }
}

void KeyOrder::Append(uint32_t ref) {
  constexpr size_t kBulkFill = kBlock * 3 / 4;  // leaves room for later inserts
  if (blocks_.empty() || blocks_.back()->n >= kBulkFill) {
    blocks_.push_back(std::make_unique<Block>());
  }
  Block* blk = blocks_.back().get();
  blk->refs[blk->n++] = ref;
  ++size_;
}

}  // namespace httpkv::storage
