#include "storage/index_arena.h"

namespace httpkv::storage {

IndexArena::IndexArena(size_t max_chunks)
    : max_chunks_(max_chunks), chunks_(std::make_unique<char*[]>(max_chunks)) {}

IndexArena::~IndexArena() {
  for (size_t i = 0; i < used_chunks_; ++i) delete[] chunks_[i];
}

bool IndexArena::HasRoom(size_t key_len) const {
  return tail_ + EntryBytes(key_len) <= kChunkBytes || used_chunks_ < max_chunks_;
}

char* IndexArena::Reserve(size_t bytes, uint32_t* ref) {
  if (tail_ + bytes > kChunkBytes) {
    chunks_[used_chunks_++] = new char[kChunkBytes];
    tail_ = 0;
  }
  char* p = chunks_[used_chunks_ - 1] + tail_;
  *ref = static_cast<uint32_t>(((used_chunks_ - 1) * kChunkBytes + tail_) >> 3);
  tail_ += bytes;
  return p;
}

uint32_t IndexArena::Append(std::string_view key, const IndexEntry& e) {
  uint32_t ref;
  char* p = Reserve(EntryBytes(key.size()), &ref);
  std::memcpy(p, &e.version, 8);
  std::memcpy(p + 8, &e.offset, 5);  // little-endian: the low 40 bits
  std::memcpy(p + 13, &e.segment, 4);
  std::memcpy(p + 17, &e.value_size, 4);
  const auto len = static_cast<uint16_t>(key.size());
  std::memcpy(p + 21, &len, 2);
  p[kSupersededAt] = 0;
  std::memcpy(p + kEntryHeader, key.data(), key.size());
  return ref;
}

uint32_t IndexArena::AppendCopy(const char* entry) {
  const size_t key_len = KeyOf(entry).size();
  uint32_t ref;
  char* p = Reserve(EntryBytes(key_len), &ref);
  std::memcpy(p, entry, kEntryHeader + key_len);
  p[kSupersededAt] = 0;
  return ref;
}

IndexEntry IndexArena::Decode(const char* entry) {
  IndexEntry e;
  std::memcpy(&e.version, entry, 8);
  std::memcpy(&e.offset, entry + 8, 5);
  std::memcpy(&e.segment, entry + 13, 4);
  std::memcpy(&e.value_size, entry + 17, 4);
  return e;
}

}  // namespace httpkv::storage
