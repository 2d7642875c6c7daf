#include "storage/index_arena.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace httpkv::storage {
namespace {

// Chunks are mapped, not malloc'ed, so the chunks of a dropped arena go back to the system
// (malloc would keep freed 128 KiB blocks in its heap).
char* MapChunk() {
  void* p = mmap(nullptr, IndexArena::kChunkBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "httpkv: panic: out of memory for a key index arena chunk\n");
    std::abort();
  }
  return static_cast<char*>(p);
}

}  // namespace

// The directory is left uninitialised: its pages are touched only as chunks are added.
IndexArena::IndexArena(uint32_t generation)
    : generation_(generation), chunks_(new char*[kMaxChunks]) {}

IndexArena::~IndexArena() {
  ReleaseChunks(used_chunks_);
}

bool IndexArena::ReleaseChunks(size_t max) {
  for (; max > 0 && used_chunks_ > 0; --max) munmap(chunks_[--used_chunks_], kChunkBytes);
  chunk_ends_.resize(used_chunks_ == 0 ? 0 : used_chunks_ - 1);
  tail_ = kChunkBytes;  // no more appends
  return used_chunks_ == 0;
}

void IndexArena::TakeEntries(IndexArena* other) {
  ReleaseChunks(used_chunks_);
  std::swap(chunks_, other->chunks_);
  std::swap(used_chunks_, other->used_chunks_);
  std::swap(tail_, other->tail_);
  std::swap(appended_bytes_, other->appended_bytes_);
  std::swap(chunk_ends_, other->chunk_ends_);
}

bool IndexArena::HasRoom(size_t key_len) const {
  return tail_ + EntryBytes(key_len) <= kChunkBytes || used_chunks_ < kMaxChunks;
}

char* IndexArena::Reserve(size_t bytes, uint32_t* ref) {
  if (tail_ + bytes > kChunkBytes) {
    if (used_chunks_ > 0) chunk_ends_.push_back(static_cast<uint32_t>(tail_));
    chunks_[used_chunks_++] = MapChunk();
    tail_ = 0;
  }
  char* p = chunks_[used_chunks_ - 1] + tail_;
  *ref = static_cast<uint32_t>(((used_chunks_ - 1) * kChunkBytes + tail_) >> 3) | generation_;
  tail_ += bytes;
  appended_bytes_ += bytes;
  return p;
}

uint32_t IndexArena::Append(std::string_view key, const IndexEntry& e) {
  uint32_t ref;
  char* p = Reserve(EntryBytes(key.size()), &ref);
  EncodeFixed64(p, e.version);
  EncodeFixed40(p + 8, e.offset);
  EncodeFixed32(p + 13, e.segment | (e.expires ? kExpiresBit : 0));
  EncodeFixed32(p + 17, e.value_size);
  EncodeFixed16(p + 21, static_cast<uint16_t>(key.size()));
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

// Segment ids are < 2^31 (they count segments ever created), so their top bit is free.
IndexEntry IndexArena::Decode(const char* entry) {
  IndexEntry e;
  e.version = DecodeFixed64(entry);
  e.offset = DecodeFixed40(entry + 8);
  const uint32_t segment_word = DecodeFixed32(entry + 13);
  e.segment = segment_word & ~kExpiresBit;
  e.expires = (segment_word & kExpiresBit) != 0;
  e.value_size = DecodeFixed32(entry + 17);
  return e;
}

}  // namespace httpkv::storage
