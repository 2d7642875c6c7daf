// OwnerMap: what one node (every member of a shard, with replicas) knows of its cluster's
// placement, so that it can answer "that key is not mine" (SPEC "Cluster-aware clients").
// tools/cluster.sh gives it to each node with PUT /admin/placement (README "Several nodes"):
//
//   {"owners": ["n1", "n2", "n3"], "self": "n2"}
//   {"owners": ["n1", "n2", "n3"], "before": ["n1", "n2"], "self": "n3"}   (a move)
//
// A key is this node's when its owner over `owners` (placement.h) is `self`. While keys move
// to this node (cluster.sh add/remove copies them in), `before` is the placement they move
// from: a key that is this node's now but was not before is still arriving, and a client
// must wait (503) until the mover has copied its last write. `self` may be missing from
// `owners` (a node being removed: no key is its own) but then must be in `before`.
//
// Immutable once made: the loops read it without a lock (published_owner_map.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/placement/placement.h"

namespace httpkv::placement {

class OwnerMap {
 public:
  enum class Verdict : uint8_t {
    kMine,      // serve it
    kNotMine,   // 421: *owner names the owner
    kMovingIn,  // 503 + Retry-After: being copied here
  };

  // False with a one-line *error: no owners, a name that is not nK/sK, the same K twice
  // in one list, self in neither list.
  static bool Make(std::vector<std::string> owners, std::vector<std::string> before,
                   std::string self, OwnerMap* out, std::string* error);
  // The JSON above (the body of PUT /admin/placement, the file placement.json); false with a
  // one-line *error.
  static bool Parse(std::string_view json, OwnerMap* out, std::string* error);
  // The same JSON, one line and a newline.
  std::string ToJson() const;

  // No allocation; one xxh32 of the key per owner (and per `before` name during a move).
  Verdict Check(std::string_view key, std::string_view* owner) const;

  const std::vector<std::string>& owners() const { return now_.names(); }
  const std::vector<std::string>& before() const { return before_.names(); }
  const std::string& self() const { return self_; }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  Placement now_;
  Placement before_;  // no names: no move in progress
  std::string self_;
  size_t self_now_ = kNone;  // index of self in now_.names()
  size_t self_before_ = kNone;
};

}  // namespace httpkv::placement
