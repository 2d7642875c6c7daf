// LogFollower: a replica's side of log shipping, on its own thread. While RoleState says it
// is a replica of a known primary, it asks that primary for the records after its own last
// seq (POST /replication/log, server/replication/log_shipping.h) and appends them with
// LogStore::ApplyReplicated; under --fsync always it fdatasyncs before asking again, so the
// next request, which names its new last seq, is an acknowledgement of durable records. The
// primary holds a request that finds nothing new until records arrive (long poll): one
// round trip per batch, however many writes the batch holds.
//
// Answers it acts on: 200 (records, then X-Log-End: its numbering follows the primary's),
// 409 + X-Truncate-To (its log has a divergent tail: discard it), 410 (it is behind the
// primary's compaction horizon: take a full copy). A discard is carried out by the next
// Open, so it asks its owner to restart the process (restart()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "server/etcd/gateway_connection.h"
#include "server/replication/replication_options.h"
#include "server/replication/role_state.h"
#include "storage/log_store.h"

namespace httpkv::server::replication {

struct FollowerCounters {
  std::atomic<uint64_t> fetches{0};
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> primary_commit{0};  // the shard's commit seq the primary last sent
  std::atomic<uint64_t> primary_last{0};    // the primary's last seq, as last sent
};

class LogFollower {
 public:
  // restart: the log must be cut back at the next Open. lost_primary: the primary did not
  // answer. applied: records were applied (wake the change feed).
  LogFollower(const ReplicationOptions& opts, storage::LogStore* store, RoleState* role,
              std::function<void()> restart, std::function<void()> lost_primary,
              std::function<void()> applied);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  void Start();
  void Stop();
  // Blocks until no batch is being applied and none will be until Resume (a member about
  // to become primary appends its own records from then on).
  void Pause();
  void Resume();
  void Wake();  // the primary changed
  // It asked for a restart to cut its log back: it must not lead before that.
  bool restarting() const { return restarting_flag_.load(std::memory_order_acquire); }
  const FollowerCounters& counters() const { return counters_; }

 private:
  void Run();
  // One request and what follows it; false: wait a little before the next.
  bool FetchOnce(const std::string& primary);
  bool Apply(const etcd::GatewayAnswer& answer);
  void RequestRestart(uint64_t keep_through, const char* why);
  void WaitABit();

  const ReplicationOptions opts_;
  storage::LogStore* const store_;
  RoleState* const role_;
  std::function<void()> restart_;
  std::function<void()> lost_primary_;
  std::function<void()> applied_;
  etcd::GatewayConnection conn_;  // follower thread only
  uint64_t full_copy_floor_ = 0;  // follower thread only: a full copy in progress
  FollowerCounters counters_;
  std::atomic<bool> restarting_flag_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;        // guarded by mu_
  bool paused_ = false;      // guarded by mu_
  bool applying_ = false;    // guarded by mu_
  bool woken_ = false;       // guarded by mu_
  bool restarting_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace httpkv::server::replication
