// The cluster map a cluster-aware client reads: FILE = the cluster.json that
// tools/cluster.sh writes (README "Cluster-aware clients").
//
//   {"front": "HOST:PORT", "nodes": [{"name": "n1", "addr": "HOST:PORT", ...}, ...]}
//   with replicas: each node has "shard": "sK", and "shards": {"s1": ["n1", "n2"], ...}
//   "placement": ["n1", "n2", ...]   the owners keys are placed over (optional; absent: all)
//
// Keys are placed over the owners: the nodes, or with replicas the shards (whose requests
// go to the shard's current primary, see routes.h), that "placement" names (a node joining
// during `cluster.sh add` is in "nodes" but owns no key yet). Other members are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/placement/placement.h"

namespace httpkv::cluster {

// The placement rule lives below the server (server/placement/): the nodes check it too.
using placement::Placement;
using placement::PlacementSeed;

struct Member {
  std::string name;  // "n2"
  std::string addr;  // "127.0.0.2:40001"
};

struct Owner {
  std::string name;             // "n1", or "s1" with replicas
  std::vector<Member> members;  // one (the node itself), or the shard's members
};

class ClusterMap {
 public:
  // Reads and parses FILE; false with a one-line *error.
  static bool Load(const std::string& path, ClusterMap* out, std::string* error);
  static bool Parse(std::string_view text, ClusterMap* out, std::string* error);

  const std::string& front() const { return front_; }
  bool replicated() const { return replicated_; }
  // In Placement order: owners()[placement().OwnerIndex(key)] owns key.
  const std::vector<Owner>& owners() const { return owners_; }
  const Placement& placement() const { return placement_; }
  size_t OwnerIndex(std::string_view key) const { return placement_.OwnerIndex(key); }
  // Every member of every owner, in owner order (the nodes whose feeds `watch` merges).
  std::vector<Member> AllMembers() const;

 private:
  std::string front_;
  bool replicated_ = false;
  std::vector<Owner> owners_;
  Placement placement_;
};

}  // namespace httpkv::cluster
