// `httpkv --cluster FILE …` (README "Cluster-aware clients"): keyed requests go straight
// to their key's owner (the node, or the shard's primary), with the placement of
// server/placement/placement.h; `owner` prints owners the way the front computes them.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/routes.h"
#include "tools/client/http_client.h"

namespace httpkv::client {

// Opens a connection to HOST:PORT (the Host header is the same string).
using AddressConnector =
    std::function<std::optional<HttpClient>(const std::string& addr, std::string*)>;

// Sends `req` to the owner of `key` and reads the answer. Stale map: when the owner's
// address refuses the connection (or fails the exchange), answers 421 (its X-Primary is
// taken as the primary) or 503, Routes::Refresh re-reads FILE and re-finds the primary, and
// the request is sent once more; the second answer stands. false: *error (no answer).
bool ClusterRoundTrip(cluster::Routes& routes, std::string_view key, const ClientRequest& req,
                      const AddressConnector& connect, ClientResponse* resp, std::string* error);

// `owner KEY…` / `owner -` (keys from stdin, one per line, raw bytes; a final "\r" is part of
// the key): one owner name per key and line. Returns 0, or 3 on an output error.
int RunOwners(const cluster::ClusterMap& map, const std::vector<std::string>& keys,
              std::istream& in, std::ostream& out);

// The key of a seed-route body "KEY:VALUE": the bytes before the first ':' (all of it
// when there is none; the server then answers 400).
std::string_view PairKey(std::string_view pair);

}  // namespace httpkv::client
