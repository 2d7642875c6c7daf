// httpkv-server's replication flags (README "Replication and failover"): --shard, --etcd,
// --node-name, --advertise, --cluster-name, --sync and the election timings.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "server/replication/replication_options.h"

namespace httpkv::tools {

struct ReplicationFlags {
  server::replication::ReplicationOptions repl;
  std::string etcd;  // --etcd as given (parsed into repl.etcd_endpoints)
  double sync_timeout_s = 5, leader_ttl_s = 5, loop_wait_s = 1, retry_timeout_s = 2;
};

void AddReplicationFlags(CLI::App& app, ReplicationFlags* f);
// After parsing: fills repl from the flags and --listen. Exit code 2 with one line on stderr
// for a bad combination (or a broken timing rule); -1 when fine.
int CheckReplicationFlags(const std::string& listen, ReplicationFlags* f);

}  // namespace httpkv::tools
