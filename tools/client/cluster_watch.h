// `httpkv --cluster FILE watch`: the change feeds of every owner (each node, or each
// shard's primary) merged into one SSE stream on stdout, in arrival order.
//
// Resuming: each merged event keeps its event/data lines, and its `id:` becomes the merged
// cursor after it, `OWNER=SEQ` for every owner that has a position, comma-separated in
// placement order (e.g. `id: n1=120,n2=98`). `--since` takes that text back (owners not
// named start from now), or a plain SEQ for every owner (`--since 0`: all history). A feed
// that ends or fails is re-opened once, after Routes::Refresh, from its cursor (with
// replicas: at the new primary; SEQs are the shard's, the same on every member).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cluster/routes.h"

namespace httpkv::client {

// Parses --since for `owners` (names in placement order): per owner, the SEQ to resume
// after, or nullopt (from now). false: *error names the problem.
bool ParseClusterSince(const std::string& text, const std::vector<std::string>& owners,
                       std::vector<std::optional<uint64_t>>* since, std::string* error);

// The merged cursor text for the id: line ("n1=120,n2=98").
std::string ClusterCursor(const std::vector<std::string>& owners,
                          const std::vector<std::optional<uint64_t>>& seq);

// Runs until a feed ends twice or fails to reopen (3), or an owner answers an error
// status (1, e.g. 410 with X-Seq-Horizon on stderr).
int RunClusterWatch(cluster::Routes& routes, const std::optional<std::string>& prefix,
                    std::vector<std::optional<uint64_t>> since, std::ostream& out,
                    std::ostream& err);

}  // namespace httpkv::client
