// The vectors tests/cluster/gen_placement_vectors.py computed with the independent
// tests/cluster/placement_ref.py: xxh32 values, and the owners of keys over name lists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httpkv::placement_vectors {

struct Xxh32Vector {
  size_t length;
  uint32_t seed;
  uint32_t expected;
};
struct PlacementVector {
  std::string_view names;  // comma-separated
  std::string_view key;
  std::string_view owner;
};
#include "tests/cluster/placement_vectors.inc"

inline std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> out;
  for (size_t comma; (comma = s.find(',')) != std::string_view::npos; s.remove_prefix(comma + 1))
    out.emplace_back(s.substr(0, comma));
  out.emplace_back(s);
  return out;
}

}  // namespace httpkv::placement_vectors
