#include "storage/key_sort.h"

#include <algorithm>
#include <string_view>

namespace httpkv::storage {
namespace {

struct Item {
  uint64_t word;  // key bytes [depth, depth + 8), big-endian, zero-padded
  uint32_t rest;  // min(key bytes from depth, 9): 9 means the key goes on past the word
  uint32_t ref;
};

void Load(const IndexArena& arena, size_t depth, Item* item) {
  const std::string_view key = arena.Key(item->ref);
  const size_t n = key.size() > depth ? std::min<size_t>(key.size() - depth, 8) : 0;
  uint64_t w = 0;
  for (size_t i = 0; i < 8; ++i) {
    w = (w << 8) | (i < n ? static_cast<uint8_t>(key[depth + i]) : 0);
  }
  item->word = w;
  item->rest = static_cast<uint32_t>(key.size() > depth + 8 ? 9 : n);
}

bool Less(const Item& a, const Item& b) {
  return a.word != b.word ? a.word < b.word : a.rest < b.rest;
}

// Sorts [begin, end), whose keys agree on their first depth bytes.
void SortFrom(const IndexArena& arena, size_t depth, Item* begin, Item* end) {
  for (Item* it = begin; it != end; ++it) Load(arena, depth, it);
  // Keys often share a prefix longer than a word: nothing to sort at this depth then.
  const bool all_equal = std::all_of(
      begin, end, [&](const Item& i) { return i.word == begin->word && i.rest == begin->rest; });
  if (!all_equal) std::sort(begin, end, Less);
  // Equal word and rest: the same bytes so far. Only keys going on past the word can tie.
  for (Item* run = begin; run != end;) {
    Item* next = run + 1;
    while (next != end && next->word == run->word && next->rest == run->rest) ++next;
    if (next - run > 1 && run->rest == 9) SortFrom(arena, depth + 8, run, next);
    run = next;
  }
}

}  // namespace

void SortRefsByKey(const IndexArena& arena, std::vector<uint32_t>* refs) {
  std::vector<Item> items(refs->size());
  for (size_t i = 0; i < refs->size(); ++i) items[i].ref = (*refs)[i];
  SortFrom(arena, 0, items.data(), items.data() + items.size());
  for (size_t i = 0; i < refs->size(); ++i) (*refs)[i] = items[i].ref;
}

}  // namespace httpkv::storage
