// Key placement of an httpkv cluster, the one statement of it in C++ (the front computes
// the same in haproxy.cfg's rules and deploy/haproxy/placement.lua; tests check all three
// against tests/cluster/placement_ref.py).
//
// Rendezvous (highest random weight) hashing: the owner of a key is the name nK (a node),
// or sK (a shard, in a cluster with replicas), with the highest Xxh32(key, seed = K); ties
// go to the lower K. The key is the raw bytes: the percent-decoded /kv/{key}, or a seed
// route's body up to its first ':'.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httpkv::placement {

// K of "nK" or "sK" (decimal digits after one letter n or s); 0 for any other name, as
// placement.lua has it.
uint32_t PlacementSeed(std::string_view name);

class Placement {
 public:
  Placement() = default;
  explicit Placement(std::vector<std::string> names);

  // Index into names() of the owner of `key`; names() must not be empty. Allocation-free.
  size_t OwnerIndex(std::string_view key) const;
  const std::string& Owner(std::string_view key) const { return names_[OwnerIndex(key)]; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::vector<uint32_t> seeds_;  // PlacementSeed of each name
};

}  // namespace httpkv::placement
