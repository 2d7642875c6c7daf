#include "storage/key_order.h"

#include <algorithm>
#include <cstring>

namespace httpkv::storage {

KeyOrder::Pos KeyOrder::Position(std::string_view key, bool inclusive) const {
  // before(k): k sorts before the position sought.
  auto before = [&](uint32_t ref) {
    const std::string_view k = Key(ref);
    return inclusive ? k < key : k <= key;
  };
  if (blocks_.empty()) return {0, 0};
  // The last block whose first key is <= key (or the first block).
  const auto it = std::partition_point(firsts_.begin(), firsts_.end(),
                                       [&](uint32_t first) { return Key(first) <= key; });
  const size_t b = it == firsts_.begin() ? 0 : static_cast<size_t>(it - firsts_.begin()) - 1;
  const Block& blk = *blocks_[b];
  const uint32_t* i = std::partition_point(blk.refs, blk.refs + blk.n, before);
  return {b, static_cast<size_t>(i - blk.refs)};
}

void KeyOrder::Insert(uint32_t ref) {
  if (blocks_.empty()) {
    Append(ref);
    return;
  }
  InsertAt(Position(Key(ref), true), ref);
}

void KeyOrder::InsertAt(Pos pos, uint32_t ref) {
  Block* blk = blocks_[pos.block].get();
  if (blk->n == kBlock) {
    auto next = std::make_unique<Block>();
    if (pos.index == kBlock) {  // past the end: start a new block (keeps ascending runs dense)
      next->refs[next->n++] = ref;
      InsertBlock(pos.block + 1, std::move(next));
      ++size_;
      return;
    }
    constexpr size_t kHalf = kBlock / 2;
    std::memcpy(next->refs, blk->refs + kHalf, kHalf * sizeof(uint32_t));
    next->n = kHalf;
    blk->n = kHalf;
    InsertBlock(pos.block + 1, std::move(next));
    if (pos.index > kHalf) {
      ++pos.block;
      pos.index -= kHalf;
      blk = blocks_[pos.block].get();
    }
  }
  std::memmove(blk->refs + pos.index + 1, blk->refs + pos.index,
               (blk->n - pos.index) * sizeof(uint32_t));
  blk->refs[pos.index] = ref;
  ++blk->n;
  firsts_[pos.block] = blk->refs[0];
  ++size_;
}

void KeyOrder::InsertBlock(size_t at, std::unique_ptr<Block> block) {
  firsts_.insert(firsts_.begin() + static_cast<ptrdiff_t>(at), block->refs[0]);
  blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(at), std::move(block));
}

void KeyOrder::EraseBlock(size_t at) {
  firsts_.erase(firsts_.begin() + static_cast<ptrdiff_t>(at));
  blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(at));
}

void KeyOrder::Erase(std::string_view key) {
  const Pos pos = Position(key, true);
  if (blocks_.empty() || pos.index == blocks_[pos.block]->n) return;  // absent: nothing to do
  if (Key(blocks_[pos.block]->refs[pos.index]) != key) return;
  RemoveAt(pos);
}

void KeyOrder::RemoveAt(Pos pos) {
  Block* blk = blocks_[pos.block].get();
  std::memmove(blk->refs + pos.index, blk->refs + pos.index + 1,
               (blk->n - pos.index - 1) * sizeof(uint32_t));
  --blk->n;
  --size_;
  if (blk->n == 0) {
    EraseBlock(pos.block);
    return;
  }
  firsts_[pos.block] = blk->refs[0];
  // Merge a sparse block with its successor so erases cannot leave many tiny blocks.
  if (pos.block + 1 < blocks_.size() && blk->n + blocks_[pos.block + 1]->n <= kBlock / 2) {
    const Block* next = blocks_[pos.block + 1].get();
    std::memcpy(blk->refs + blk->n, next->refs, next->n * sizeof(uint32_t));
    blk->n += next->n;
    EraseBlock(pos.block + 1);
  }
}

void KeyOrder::Clear() {
  blocks_.clear();
  firsts_.clear();
  size_ = 0;
}

void KeyOrder::Append(uint32_t ref) {
  constexpr size_t kBulkFill = kBlock * 3 / 4;  // leaves room for later inserts
  if (blocks_.empty() || blocks_.back()->n >= kBulkFill) {
    auto block = std::make_unique<Block>();
    block->refs[block->n++] = ref;
    InsertBlock(blocks_.size(), std::move(block));
  } else {
    Block* blk = blocks_.back().get();
    blk->refs[blk->n++] = ref;
  }
  ++size_;
}

}  // namespace httpkv::storage
