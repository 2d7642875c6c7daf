// IndexArena: append-only storage for KeyIndex's packed entries, readable without a lock.
//
// An entry is its location and key, packed and 8-byte aligned:
//   version u64 | offset u40 | segment u32 | value_size u32 | key_len u16 | superseded u8 | key
// (segment's bit 31 is IndexEntry::expires: segment ids stay below 2^31)
// (24 bytes + key). It is addressed by a 4-byte reference (its offset in 8-byte units), so one
// arena holds up to 32 GiB. Entries are immutable once written: an update writes a new entry
// and the old bytes stay until the whole arena is rebuilt (KeyIndex counts them as garbage).
// The one exception is the superseded byte, which lock-free readers never touch: the writer
// sets it on the old entry (under its mutex) so that listings, which keep references to
// entries, know when to look the key up again.
//
// Chunks are 128 KiB and listed in a directory whose size is fixed at construction, so a
// reader that got a reference through an acquire load (which orders it after the entry's
// bytes and its chunk pointer were written) can follow it while the writer appends.
// Appending is single-writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "storage/coding.h"
#include "storage/key_index.h"

namespace httpkv::storage {

class IndexArena {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 17;
  static constexpr size_t kMaxChunks = size_t{1} << 18;  // 4-byte refs in 8-byte units
  static constexpr size_t kEntryHeader = 24;
  static constexpr uint32_t kExpiresBit = uint32_t{1} << 31;

  explicit IndexArena(size_t max_chunks);
  ~IndexArena();
  IndexArena(const IndexArena&) = delete;
  IndexArena& operator=(const IndexArena&) = delete;

  static size_t EntryBytes(size_t key_len) { return (kEntryHeader + key_len + 7) & ~size_t{7}; }

  // False when an entry for a key of key_len bytes would need a chunk beyond the directory.
  bool HasRoom(size_t key_len) const;
  // Requires HasRoom(key.size()).
  uint32_t Append(std::string_view key, const IndexEntry& e);
  // Copies a packed entry from another arena. Requires HasRoom for its key.
  uint32_t AppendCopy(const char* entry);

  const char* At(uint32_t ref) const {
    const size_t byte = size_t{ref} << 3;
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

  size_t max_chunks() const { return max_chunks_; }
  size_t memory_bytes() const { return used_chunks_ * kChunkBytes + max_chunks_ * sizeof(char*); }

 private:
  static constexpr size_t kSupersededAt = 23;

  char* Reserve(size_t bytes, uint32_t* ref);

  const size_t max_chunks_;
  std::unique_ptr<char*[]> chunks_;  // [0, used_chunks_) allocated
  size_t used_chunks_ = 0;
  size_t tail_ = kChunkBytes;  // bytes used in the last chunk
};

}  // namespace httpkv::storage
