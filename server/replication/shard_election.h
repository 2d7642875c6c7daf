// ShardElection: the Patroni loop of one member, on its own thread, over etcd's JSON gateway
// (server/etcd). Per shard, under /httpkv/CLUSTER/SHARD/:
//   leader          "NODE ADDR", created only if absent, on the leader's lease; its
//                   create_revision is the term (it only grows)
//   members/NODE    "ADDR LAST_SEQ TERM" on the member's own lease: who is alive and how far
//   sync            "n2,n3": the synchronous standbys the primary named (--sync K >= 1)
// Every loop_wait a primary renews its lease and checks the key is still its own; a member
// without a primary follows the leader key's holder, or, when there is none and it is
// eligible (the most up-to-date live member; with K >= 1 among those named in `sync`), tries to
// create it. The lease is timed on this process's monotonic clock (RoleState): a primary
// whose renewal does not succeed by its deadline steps down by itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "server/etcd/etcd_client.h"
#include "server/replication/replica_set.h"
#include "server/replication/replication_options.h"
#include "server/replication/role_state.h"
#include "storage/log_store.h"

namespace httpkv::server::replication {

struct ElectionHooks {
  // Before this member appends its term marker: the log follower must stop applying.
  std::function<void()> before_promote;
  // After it stepped down (lease lost): it rejoins as a replica.
  std::function<void()> after_step_down;
  // Whether this member may be elected now (e.g. not while it still has to rejoin).
  std::function<bool()> may_lead;
};

struct ElectionCounters {
  std::atomic<uint64_t> elections_won{0};
  std::atomic<uint64_t> step_downs{0};       // leases lost (the fence acting)
  std::atomic<uint64_t> etcd_errors{0};      // etcd calls that failed
  std::atomic<uint64_t> standby_changes{0};  // sync standby sets written to etcd
};

class ShardElection {
 public:
  using Clock = std::chrono::steady_clock;

  ShardElection(const ReplicationOptions& opts, storage::LogStore* store, RoleState* role,
                ReplicaSet* replicas, ElectionHooks hooks);
  ~ShardElection();
  ShardElection(const ShardElection&) = delete;
  ShardElection& operator=(const ShardElection&) = delete;

  void Start();
  // Ends the loop; a primary hands leadership over (deletes its leader key, revokes its
  // lease) so that another member is elected at once.
  void Stop();
  void Wake();  // run the loop now (a replica lost its primary)
  const ElectionCounters& counters() const { return counters_; }

 private:
  void Run();
  void Step();
  void StepPrimary(Clock::time_point now);
  void StepFollower();
  void StepDown(const char* why);
  bool Eligible();
  void TryLead();
  void PublishMember();
  void NameStandbys();
  std::string Key(const std::string& name) const { return opts_.KeyPrefix() + name; }
  int64_t TtlSeconds() const;

  const ReplicationOptions opts_;
  storage::LogStore* const store_;
  RoleState* const role_;
  ReplicaSet* const replicas_;
  ElectionHooks hooks_;
  etcd::EtcdClient etcd_;
  ElectionCounters counters_;
  // Election thread only.
  int64_t leader_lease_ = 0;
  int64_t member_lease_ = 0;
  Clock::time_point next_renew_;
  Clock::time_point next_publish_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool woken_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace httpkv::server::replication
