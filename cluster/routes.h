// Routes: where a cluster-aware client sends each owner's requests. Without replicas an
// owner is a node and its address is the node's; with replicas it is the shard's current
// primary, found by asking the members `GET /primary` (200 = primary) and cached.
//
// Stale map (README "Cluster-aware clients"): when an owner's address answers 421 (the
// caller passes X-Primary to SetPrimary), 503, or refuses the connection, the caller
// calls Refresh(owner) — FILE is re-read and, with replicas, the primary found again —
// and retries once. A 421 with X-Owner (the node does not own the key: the placement
// changed) needs a new Routes loaded from path().
//
// Thread-safe: the bench's workers share one Routes. The owner list (the placement) is
// the one read by Load; Refresh updates addresses only (a FILE whose owners changed, after
// `cluster.sh add`, needs a new Routes: restart the client).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/cluster_map.h"

namespace httpkv::cluster {

// One blocking `GET path` to addr (HOST:PORT) within timeout: the status, or -1 when the
// connection or the exchange failed.
int ProbeStatus(const std::string& addr, const std::string& path,
                std::chrono::milliseconds timeout);

class Routes {
 public:
  // Reads FILE and, with replicas, finds every shard's primary. false: *error set.
  bool Load(const std::string& path, std::chrono::milliseconds timeout, std::string* error);

  // The map as loaded (constant between Loads).
  const ClusterMap& map() const { return map_; }
  // FILE and the probe timeout Load was given (a client that meets X-Owner loads a new
  // Routes from them: the placement changed).
  const std::string& path() const { return path_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // Where owner's requests go now.
  std::string AddressOf(size_t owner) const;
  // A 421's X-Primary: that address is the owner's primary from now on.
  void SetPrimary(size_t owner, const std::string& addr);
  // Re-reads FILE (members' addresses) and re-finds owner's primary. Calls within
  // kRefreshGap of the last one for the same owner return at once (many connections
  // failing together cost one look-up). Returns the owner's address.
  std::string Refresh(size_t owner);

  static constexpr std::chrono::milliseconds kRefreshGap{50};

 private:
  // The member of `owner` whose /primary answers 200, or "" (none right now).
  std::string FindPrimary(const Owner& owner) const;

  std::string path_;
  std::chrono::milliseconds timeout_{2000};
  ClusterMap map_;
  mutable std::mutex mu_;
  std::vector<Owner> owners_;         // guarded by mu_: members as last read
  std::vector<std::string> address_;  // guarded by mu_
  std::vector<std::chrono::steady_clock::time_point> refreshed_;  // guarded by mu_
};

}  // namespace httpkv::cluster
