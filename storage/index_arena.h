// IndexArena: append-only storage for KeyIndex's packed entries, readable without a lock.
//
// An entry is its location and key, packed and 8-byte aligned:
//   version u64 | offset u40 | segment u32 | value_size u32 | key_len u16 | superseded u8 | key
// (segment's bit 31 is IndexEntry::expires: segment ids stay below 2^31)
// (24 bytes + key). It is addressed by a 4-byte reference: bit 31 is the arena's generation
// bit (KeyIndex alternates two arenas while it moves entries from one table to the next, and
// its KeyOrder holds references into both), bits 0-30 the entry's offset in 8-byte units, so
// one arena holds up to 16 GiB. Entries are immutable once written: an update writes a new
// entry and the old bytes stay until the whole arena is dropped (KeyIndex counts them as
// garbage). The one exception is the superseded byte, which lock-free readers never touch:
// the writer sets it on the old entry (under its mutex) so that listings, which keep
// references to entries, know when to look the key up again.
//
// Chunks are 128 KiB and listed in a directory of kMaxChunks pointers, allocated (not touched)
// at construction, so a reader that got a reference through an acquire load (which orders it
// after the entry's bytes were written) can follow it while the writer appends. Appending is
// single-writer. An arena being dropped is freed a few chunks at a time (ReleaseChunks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "storage/coding.h"
#include "storage/key_index.h"

namespace httpkv::storage {

class IndexArena {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 17;
  static constexpr size_t kMaxChunks = size_t{1} << 17;  // 31-bit refs in 8-byte units
  static constexpr size_t kEntryHeader = 24;
  static constexpr uint32_t kExpiresBit = uint32_t{1} << 31;
  static constexpr uint32_t kGenerationBit = uint32_t{1} << 31;

  // generation: 0 or kGenerationBit, carried by every reference this arena hands out.
  explicit IndexArena(uint32_t generation);
  ~IndexArena();
  IndexArena(const IndexArena&) = delete;
  IndexArena& operator=(const IndexArena&) = delete;

  static size_t EntryBytes(size_t key_len) { return (kEntryHeader + key_len + 7) & ~size_t{7}; }
  static uint32_t GenerationOf(uint32_t ref) { return ref & kGenerationBit; }

  // False when an entry for a key of key_len bytes would need a chunk beyond the directory.
  bool HasRoom(size_t key_len) const;
  // Requires HasRoom(key.size()).
  uint32_t Append(std::string_view key, const IndexEntry& e);
  // Copies a packed entry from another arena. Requires HasRoom for its key.
  uint32_t AppendCopy(const char* entry);

  const char* At(uint32_t ref) const {
    const size_t byte = size_t{ref & ~kGenerationBit} << 3;
    return chunks_[byte / kChunkBytes] + byte % kChunkBytes;
  }
  std::string_view Key(uint32_t ref) const { return KeyOf(At(ref)); }

  // Writer side only (never read by lock-free readers).
  void MarkSuperseded(uint32_t ref) { const_cast<char*>(At(ref))[kSupersededAt] = 1; }
  bool Superseded(uint32_t ref) const { return At(ref)[kSupersededAt] != 0; }

  static std::string_view KeyOf(const char* entry) {
    return {entry + kEntryHeader, DecodeFixed16(entry + 21)};
  }
  static IndexEntry Decode(const char* entry);

  uint32_t generation() const { return generation_; }
  // Calls fn(ref) for every entry, live or not, in the order they were appended. Writer side.
  template <typename Fn>
  void ForEachEntry(Fn&& fn) const {
    for (size_t c = 0; c < used_chunks_; ++c) {
      const size_t end = c + 1 == used_chunks_ ? tail_ : chunk_ends_[c];
      for (size_t at = 0; at < end;) {
        const auto ref = static_cast<uint32_t>((c * kChunkBytes + at) >> 3) | generation_;
        fn(ref);
        at += EntryBytes(Key(ref).size());
      }
    }
  }
  // Takes over other's entries (other is left empty); their references stay valid here when
  // both arenas have the same generation. Only while no reader can reach either arena.
  void TakeEntries(IndexArena* other);
  // Frees up to max chunks (from the last); true once none is left. For an arena no reader
  // or KeyOrder can reach any more.
  bool ReleaseChunks(size_t max);
  size_t memory_bytes() const { return used_chunks_ * (kChunkBytes + sizeof(char*)); }
  // EntryBytes of every entry appended (live or not).
  size_t appended_bytes() const { return appended_bytes_; }

 private:
  static constexpr size_t kSupersededAt = 23;

  char* Reserve(size_t bytes, uint32_t* ref);

  const uint32_t generation_;
  std::unique_ptr<char*[]> chunks_;  // [0, used_chunks_) allocated
  size_t used_chunks_ = 0;
  size_t tail_ = kChunkBytes;  // bytes used in the last chunk
  size_t appended_bytes_ = 0;
  std::vector<uint32_t> chunk_ends_;  // bytes used in each full chunk (all but the last)
};

}  // namespace httpkv::storage
