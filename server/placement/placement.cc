#include "server/placement/placement.h"

#include <charconv>

#include "server/placement/xxh32.h"

namespace httpkv::placement {

uint32_t PlacementSeed(std::string_view name) {
  if (name.size() < 2 || (name[0] != 'n' && name[0] != 's')) return 0;
  uint32_t k = 0;
  const char* end = name.data() + name.size();
  const auto [p, ec] = std::from_chars(name.data() + 1, end, k);
  return ec == std::errc() && p == end ? k : 0;
}

Placement::Placement(std::vector<std::string> names) : names_(std::move(names)) {
  seeds_.reserve(names_.size());
  for (const std::string& n : names_) seeds_.push_back(PlacementSeed(n));
}

// The placement rule itself: change it here and only here (and in the front's rules).
size_t Placement::OwnerIndex(std::string_view key) const {
  size_t best = 0;
  uint32_t best_score = Xxh32(key, seeds_[0]);
  for (size_t i = 1; i < seeds_.size(); ++i) {
    const uint32_t score = Xxh32(key, seeds_[i]);
    if (score > best_score || (score == best_score && seeds_[i] < seeds_[best])) {
      best = i;
      best_score = score;
    }
  }
  return best;
}

}  // namespace httpkv::placement
