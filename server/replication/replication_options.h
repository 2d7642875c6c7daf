// ReplicationOptions: how a member of a replicated shard runs (httpkv-server --shard ...).
// An empty shard means no replication: the node is standalone and always takes writes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace httpkv::server::replication {

struct ReplicationOptions {
  std::string shard;                        // --shard NAME; empty: standalone
  std::vector<std::string> etcd_endpoints;  // --etcd URLS (parsed)
  std::string node_name;                    // --node-name (default: advertise)
  std::string advertise;                    // --advertise HOST:PORT (default: the listen address)
  std::string cluster_name = "httpkv";      // --cluster-name: etcd keys under /httpkv/NAME/
  // The --listen address when it names one (not 0.0.0.0 / ::): connections to etcd and to
  // the primary leave from it, so the member is one address on the network.
  std::string source_ip;
  unsigned sync = 0;                              // --sync K: replicas that must hold a write
  std::chrono::milliseconds sync_timeout{5000};   // --sync-timeout: then 503
  std::chrono::milliseconds leader_ttl{5000};     // --leader-ttl
  std::chrono::milliseconds loop_wait{1000};      // --loop-wait
  std::chrono::milliseconds retry_timeout{2000};  // --retry-timeout: each etcd call
  // With --auth-file: the file's first admin token, which a replica presents to its primary
  // (members of a shard share one token file). Empty: no Authorization. Never logged.
  std::string bearer_token;
  bool enabled() const { return !shard.empty(); }
  // The Patroni rule: a primary renews at least twice (with retries) within its TTL.
  bool TimingsValid() const { return loop_wait + 2 * retry_timeout <= leader_ttl; }
  // etcd key prefix of the shard: /httpkv/CLUSTER/SHARD/
  std::string KeyPrefix() const { return "/httpkv/" + cluster_name + "/" + shard + "/"; }
};

}  // namespace httpkv::server::replication
