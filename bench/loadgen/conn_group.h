// ConnGroup: one logical connection of `httpkv-bench --cluster` (README "Cluster-aware
// clients"): a keep-alive ClientConn to every owner, sharing one pipeline budget. Each
// request goes to its key's owner (ClusterKeys::owner_of, precomputed at start-up: one
// table load per request, no hashing on the hot path); at most `depth` requests are in
// flight over all of them. The open-loop schedule and the preload range are the
// group's, as they are a plain ClientConn's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/loadgen/client_conn.h"
#include "cluster/routes.h"

namespace httpkv::bench {

// --cluster: the routes (shared by every worker) and the owner of each key number
// (key-N), computed once at start-up with the cluster's placement.
struct ClusterKeys {
  cluster::Routes* routes = nullptr;
  std::vector<uint8_t> owner_of;

  static constexpr uint64_t kMaxKeys = uint64_t{1} << 28;  // 256 MiB of table
  // false: *error (too many keys or owners).
  static bool Build(cluster::Routes* routes, uint64_t keys, ClusterKeys* out, std::string* error);
};

class ConnGroup {
 public:
  // members[o]: the connection to owner o (owned by the worker).
  ConnGroup(Worker* worker, uint32_t index, std::vector<ClientConn*> members);

  void SetPreloadRange(uint64_t lo, uint64_t hi) {
    next_key_ = lo;
    end_key_ = hi;
  }
  // Pushes what the mode allows (as ClientConn::Fill does alone) and sends it.
  void Fill(int64_t now);
  // A member's answer completed: preload may be done.
  void MaybeDone();
  // Preload: a member lost requests from `key` on (its oldest in flight); send again.
  void Rewind(uint64_t key) { next_key_ = std::min(next_key_, key); }
  // Sends op on key to its owner (also the one retry after a stale answer).
  void Push(Op op, uint64_t key, int64_t start_ns, bool retried);
  int64_t NextDue() const;

 private:
  size_t InFlight() const;
  int64_t Intended(uint64_t k) const {
    return start_ns_ + static_cast<int64_t>(static_cast<double>(k) * step_ns_);
  }

  Worker* w_;
  std::vector<ClientConn*> members_;
  Rng rng_;
  size_t depth_;
  bool done_ = false;
  uint64_t sent_ = 0;
  int64_t start_ns_ = 0;
  double step_ns_ = 0;
  uint64_t next_key_ = 0;
  uint64_t end_key_ = 0;
};

}  // namespace httpkv::bench
