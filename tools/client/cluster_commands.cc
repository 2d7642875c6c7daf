#include "tools/client/cluster_commands.h"

namespace httpkv::client {
namespace {

// One exchange with `addr`; false when there is no answer.
bool Exchange(const std::string& addr, const ClientRequest& req, const AddressConnector& connect,
              ClientResponse* resp, std::string* error) {
  std::optional<HttpClient> http = connect(addr, error);
  if (!http) return false;
  if (http->RoundTrip(req, resp, error)) return true;
  *error = addr + ": " + *error;
  return false;
}

}  // namespace

bool ClusterRoundTrip(cluster::Routes& routes, std::string_view key, const ClientRequest& req,
                      const AddressConnector& connect, ClientResponse* resp, std::string* error) {
  const size_t owner = routes.map().OwnerIndex(key);
  const bool answered = Exchange(routes.AddressOf(owner), req, connect, resp, error);
  if (answered && resp->status != 421 && resp->status != 503) return true;
  if (answered && resp->status == 421 && !resp->Header("X-Owner").empty()) {
    // Not that node's key any more (cluster.sh add/remove): place it again over FILE as it
    // is now, and send it once more to the owner found there.
    cluster::Routes fresh;
    if (!fresh.Load(routes.path(), routes.timeout(), error)) return false;
    *resp = ClientResponse{};
    return Exchange(fresh.AddressOf(fresh.map().OwnerIndex(key)), req, connect, resp, error);
  }
  if (answered && resp->status == 421 && !resp->Header("X-Primary").empty()) {
    routes.SetPrimary(owner, std::string(resp->Header("X-Primary")));
  } else {
    routes.Refresh(owner);
  }
  *resp = ClientResponse{};
  return Exchange(routes.AddressOf(owner), req, connect, resp, error);
}

int RunOwners(const cluster::ClusterMap& map, const std::vector<std::string>& keys,
              std::istream& in, std::ostream& out) {
  const cluster::Placement& placement = map.placement();
  auto print = [&](std::string_view key) { out << placement.Owner(key) << '\n'; };
  for (const std::string& k : keys) {
    if (k != "-") {
      print(k);
      continue;
    }
    for (std::string line; std::getline(in, line);) print(line);
  }
  out.flush();
  return out ? 0 : 3;
}

std::string_view PairKey(std::string_view pair) {
  return pair.substr(0, pair.find(':'));
}

}  // namespace httpkv::client
