// ReplicationNode: one member of a replicated shard (httpkv-server --shard). It owns the
// member's role (RoleState), its election thread (ShardElection, through etcd), its log
// follower (LogFollower, while a replica) and, while primary, its view of the replicas
// (ReplicaSet). The reactor threads read the role and the commit seq through it, without a
// lock on the hot path; everything that waits (etcd, the primary) runs on its two threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "server/replication/log_follower.h"
#include "server/replication/replica_set.h"
#include "server/replication/replication_options.h"
#include "server/replication/role_state.h"
#include "server/replication/shard_election.h"
#include "storage/log_store.h"

namespace httpkv::server::replication {

class ReplicationNode {
 public:
  // restart: called (on the follower thread) when the log must be cut back at the next
  // Open; the owner stops the server and runs it again (httpkv-server re-executes itself).
  ReplicationNode(const ReplicationOptions& opts, storage::LogStore* store,
                  std::function<void()> restart);
  ~ReplicationNode();
  ReplicationNode(const ReplicationNode&) = delete;
  ReplicationNode& operator=(const ReplicationNode&) = delete;

  // Before Start: fn(ctx) runs (on a replication or reactor thread; keep it to posts) when
  // the commit seq advanced or records arrived from the primary.
  void SetProgressListener(void (*fn)(void*), void* ctx);
  void Start();
  // Stops both threads; a primary hands leadership over first.
  void Stop();

  const ReplicationOptions& options() const { return opts_; }
  const RoleState& role() const { return role_; }
  ReplicaSet& replicas() { return replicas_; }
  const ReplicaSet& replicas() const { return replicas_; }
  // The newest seq the change feed may show: with --sync K >= 1 only what K replicas hold
  // (a tail a failover discards was never shown to anyone); otherwise no bound.
  uint64_t FeedBound() const;
  // The seq a write must reach in commit_seq() before it is acknowledged (--sync K >= 1).
  bool waits_for_replicas() const { return opts_.sync > 0; }
  // GET /admin/replication.
  std::string StatusJson() const;
  // The httpkv_replication_* series of /metrics.
  void AppendMetrics(std::string* out) const;

 private:
  const ReplicationOptions opts_;
  storage::LogStore* const store_;
  RoleState role_{Role::kElecting};
  ReplicaSet replicas_;
  void (*progress_fn_)(void*) = nullptr;  // set before Start
  void* progress_ctx_ = nullptr;
  std::unique_ptr<LogFollower> follower_;
  std::unique_ptr<ShardElection> election_;
};

}  // namespace httpkv::server::replication
