// KeyOrder: KeyIndex's keys in byte order, for listings (Collect) in O(log n + page).
//
// A two-level sorted block list of 4-byte IndexArena references, compared by the key bytes
// they point at: a vector of blocks of up to kBlock references, beside a vector of each
// block's first reference. Finding a position is a binary
// search over the blocks' first keys and then inside one block (O(log n)); an insert or erase
// moves at most one block's references and, when a block splits or empties, the block
// pointers (n / kBlock of them). About 4-8 bytes per key (blocks are 1/2 to full).
//
// References may point into either of KeyIndex's two arenas (the reference's generation bit
// picks one, see storage/index_arena.h). Not thread-safe: KeyIndex uses it under its writer
// mutex only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "storage/index_arena.h"

namespace httpkv::storage {

class KeyOrder {
 public:
  static constexpr size_t kBlock = 512;

  // References of arena's generation are read from arena from now on; it must outlive them.
  void SetArena(const IndexArena* arena) { arenas_[Slot(arena->generation())] = arena; }
  const char* At(uint32_t ref) const { return arenas_[Slot(ref)]->At(ref); }
  std::string_view Key(uint32_t ref) const { return IndexArena::KeyOf(At(ref)); }
  bool Superseded(uint32_t ref) const { return arenas_[Slot(ref)]->Superseded(ref); }

  // ref's key must not be present.
  void Insert(uint32_t ref);
  // The key must be present.
  void Erase(std::string_view key);
  // Bulk build in order: ref's key is greater than every key present.
  void Append(uint32_t ref);
  // Drops every reference.
  void Clear();

  // Calls fn(uint32_t& ref) for the keys >= key (inclusive) or > key, in order, while fn
  // returns true. fn may repoint ref at another entry for the same key.
  template <typename Fn>
  void ForEachFrom(std::string_view key, bool inclusive, Fn&& fn) {
    auto [b, i] = Position(key, inclusive);
    for (; b < blocks_.size(); ++b, i = 0) {
      for (; i < blocks_[b]->n; ++i) {
        const bool go_on = fn(blocks_[b]->refs[i]);
        if (i == 0) firsts_[b] = blocks_[b]->refs[0];  // fn may have repointed it
        if (!go_on) return;
      }
    }
  }

  size_t size() const { return size_; }
  size_t memory_bytes() const {
    return blocks_.size() * sizeof(Block) + blocks_.capacity() * sizeof(blocks_[0]) +
           firsts_.capacity() * sizeof(firsts_[0]);
  }

 private:
  struct Block {
    uint32_t n = 0;
    uint32_t refs[kBlock];
  };
  struct Pos {
    size_t block, index;
  };

  // The block that holds (or would hold) key, and the first index in it whose key is >= key
  // (inclusive) or > key; index may equal the block's size. {0, 0} when there are no blocks.
  Pos Position(std::string_view key, bool inclusive) const;
  void InsertAt(Pos pos, uint32_t ref);
  void RemoveAt(Pos pos);
  void InsertBlock(size_t at, std::unique_ptr<Block> block);
  void EraseBlock(size_t at);

  static size_t Slot(uint32_t ref_or_generation) { return ref_or_generation >> 31; }

  const IndexArena* arenas_[2] = {nullptr, nullptr};
  std::vector<std::unique_ptr<Block>> blocks_;  // none empty
  // blocks_[i]->refs[0] or an older entry of the same key (in the same arena): the block
  // search reads no block.
  std::vector<uint32_t> firsts_;
  size_t size_ = 0;
};

}  // namespace httpkv::storage
