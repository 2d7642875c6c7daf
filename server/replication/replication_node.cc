#include "server/replication/replication_node.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "server/etcd/json.h"

namespace httpkv::server::replication {

ReplicationNode::ReplicationNode(const ReplicationOptions& opts, storage::LogStore* store,
                                 std::function<void()> restart)
    : opts_(opts), store_(store), replicas_(opts.sync) {
  store_->SetExpiryWrites(false);  // until this member leads
  follower_ = std::make_unique<LogFollower>(
      opts_, store_, &role_, std::move(restart), [this] { election_->Wake(); },
      [this] {
        if (progress_fn_ != nullptr) progress_fn_(progress_ctx_);
      });
  ElectionHooks hooks;
  hooks.before_promote = [this] { follower_->Pause(); };
  hooks.after_step_down = [this] { follower_->Resume(); };
  hooks.may_lead = [this] { return !follower_->restarting(); };
  election_ = std::make_unique<ShardElection>(opts_, store_, &role_, &replicas_, std::move(hooks));
}

ReplicationNode::~ReplicationNode() {
  Stop();
}

void ReplicationNode::SetProgressListener(void (*fn)(void*), void* ctx) {
  progress_fn_ = fn;
  progress_ctx_ = ctx;
  replicas_.SetListener(fn, ctx);
}

void ReplicationNode::Start() {
  follower_->Start();
  election_->Start();
}

void ReplicationNode::Stop() {
  if (election_) election_->Stop();
  if (follower_) follower_->Stop();
}

uint64_t ReplicationNode::FeedBound() const {
  if (opts_.sync == 0) return UINT64_MAX;
  switch (role_.role()) {
    case Role::kPrimary:
      return replicas_.commit_seq();
    case Role::kReplica:
    case Role::kElecting:
      // What the primary last said was committed; a replica never shows a tail that a
      // failover could discard either.
      return follower_->counters().primary_commit.load(std::memory_order_acquire);
    case Role::kStandalone:
      return UINT64_MAX;
  }
  return UINT64_MAX;
}

std::string ReplicationNode::StatusJson() const {
  const Role r = role_.role();
  const uint64_t last = store_->LastSeq();
  std::string out = "{\"role\":";
  etcd::AppendJsonString(RoleName(r), &out);
  out += ",\"shard\":";
  etcd::AppendJsonString(opts_.shard, &out);
  out += ",\"node\":";
  etcd::AppendJsonString(opts_.node_name, &out);
  out += ",\"addr\":";
  etcd::AppendJsonString(opts_.advertise, &out);
  out += ",\"primary\":";
  const std::string primary = role_.primary();
  if (primary.empty()) {
    out += "null";
  } else {
    etcd::AppendJsonString(primary, &out);
  }
  const uint64_t commit = r == Role::kPrimary ? replicas_.commit_seq() : FeedBound();
  fmt::format_to(std::back_inserter(out),
                 ",\"term\":{},\"last_seq\":{},\"commit_seq\":{},\"horizon\":{},\"sync\":{},"
                 "\"streaming\":{}",
                 store_->CurrentTerm(), last, commit == UINT64_MAX ? last : commit,
                 store_->SeqHorizon(), opts_.sync, role_.streaming() ? "true" : "false");
  if (r == Role::kPrimary) {
    const auto left = role_.LeaseDeadline() - RoleState::Clock::now();
    fmt::format_to(std::back_inserter(out), ",\"lease_ms_left\":{}",
                   std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
  }
  out += ",\"replicas\":[";
  const uint64_t pos = store_->LogPosition();
  if (r == Role::kPrimary) {
    const auto now = RoleState::Clock::now();
    bool first = true;
    for (const ReplicaPosition& m : replicas_.Snapshot()) {
      out += first ? "{\"node\":" : ",{\"node\":";
      first = false;
      etcd::AppendJsonString(m.node, &out);
      out += ",\"addr\":";
      etcd::AppendJsonString(m.addr, &out);
      fmt::format_to(
          std::back_inserter(out),
          ",\"acked_seq\":{},\"lag\":{},\"lag_bytes\":{},\"sync_standby\":{},"
          "\"last_seen_ms\":{}}}",
          m.acked_seq, last > m.acked_seq ? last - m.acked_seq : 0,
          pos > m.held_position ? pos - m.held_position : 0, m.named ? "true" : "false",
          std::chrono::duration_cast<std::chrono::milliseconds>(now - m.last_seen).count());
    }
  }
  out += "]}\n";
  return out;
}

void ReplicationNode::AppendMetrics(std::string* out) const {
  auto it = std::back_inserter(*out);
  const Role r = role_.role();
  const uint64_t last = store_->LastSeq();
  *out += "# HELP httpkv_replication_role 1 for this member's current role.\n";
  *out += "# TYPE httpkv_replication_role gauge\n";
  for (Role each : {Role::kPrimary, Role::kReplica, Role::kElecting}) {
    fmt::format_to(it, "httpkv_replication_role{{role=\"{}\"}} {}\n", RoleName(each),
                   each == r ? 1 : 0);
  }
  fmt::format_to(it,
                 "# HELP httpkv_replication_term The newest term in this member's history.\n"
                 "# TYPE httpkv_replication_term gauge\nhttpkv_replication_term {}\n",
                 store_->CurrentTerm());
  const ElectionCounters& e = election_->counters();
  fmt::format_to(it,
                 "# HELP httpkv_replication_elections_won_total Elections this member won.\n"
                 "# TYPE httpkv_replication_elections_won_total counter\n"
                 "httpkv_replication_elections_won_total {}\n"
                 "# HELP httpkv_replication_fence_step_downs_total Times this primary stopped "
                 "taking writes because its lease could not be renewed in time.\n"
                 "# TYPE httpkv_replication_fence_step_downs_total counter\n"
                 "httpkv_replication_fence_step_downs_total {}\n"
                 "# HELP httpkv_replication_etcd_errors_total etcd calls that failed.\n"
                 "# TYPE httpkv_replication_etcd_errors_total counter\n"
                 "httpkv_replication_etcd_errors_total {}\n",
                 e.elections_won.load(), e.step_downs.load(), e.etcd_errors.load());
  const FollowerCounters& f = follower_->counters();
  fmt::format_to(it,
                 "# HELP httpkv_replication_received_records_total Records applied from the "
                 "primary.\n# TYPE httpkv_replication_received_records_total counter\n"
                 "httpkv_replication_received_records_total {}\n"
                 "# HELP httpkv_replication_received_bytes_total Bytes of records applied from "
                 "the primary.\n# TYPE httpkv_replication_received_bytes_total counter\n"
                 "httpkv_replication_received_bytes_total {}\n",
                 f.records.load(), f.bytes.load());
  *out +=
      "# HELP httpkv_replication_replica_lag_seqs How many seqs each replica is behind "
      "(primary only).\n# TYPE httpkv_replication_replica_lag_seqs gauge\n";
  const auto replicas = r == Role::kPrimary ? replicas_.Snapshot() : std::vector<ReplicaPosition>();
  for (const ReplicaPosition& m : replicas) {
    fmt::format_to(it, "httpkv_replication_replica_lag_seqs{{node=\"{}\"}} {}\n", m.node,
                   last > m.acked_seq ? last - m.acked_seq : 0);
  }
  *out +=
      "# HELP httpkv_replication_replica_lag_bytes Bytes the primary appended since each "
      "replica last held its whole log (primary only).\n"
      "# TYPE httpkv_replication_replica_lag_bytes gauge\n";
  const uint64_t pos = store_->LogPosition();
  for (const ReplicaPosition& m : replicas) {
    fmt::format_to(it, "httpkv_replication_replica_lag_bytes{{node=\"{}\"}} {}\n", m.node,
                   pos > m.held_position ? pos - m.held_position : 0);
  }
}

}  // namespace httpkv::server::replication
