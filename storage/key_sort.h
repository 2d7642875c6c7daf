// SortRefsByKey: sorts IndexArena references by their keys' bytes, for building a KeyOrder in
// one pass (recovery's bulk load).
//
// Most-significant-first by 8-byte words: each reference is paired with the big-endian word
// of its key at the current depth (and how much of the key that word covers), the pairs are
// sorted without touching the arena, and only runs of keys equal so far are refined with
// their next word. Keys that share long prefixes cost one arena read per word per key.
#pragma once

#include <cstdint>
#include <vector>

#include "storage/index_arena.h"

namespace httpkv::storage {

// refs: distinct keys of arena.
void SortRefsByKey(const IndexArena& arena, std::vector<uint32_t>* refs);

}  // namespace httpkv::storage
