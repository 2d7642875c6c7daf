// KvRoutes' side of the cluster's placement (SPEC "Cluster-aware clients", README "Several
// nodes"): a keyed request for a key this node does not own is answered 421 with X-Owner
// (a stale client map), one for a key still being copied here 503 (cluster.sh add/remove);
// /admin/placement reads and changes what the node knows (server/placement/owner_map.h).
#include <fmt/format.h>

#include <iterator>

#include "server/routes/kv_routes.h"

namespace httpkv::server {

using placement::OwnerMap;

bool KvRoutes::NotOwnedHere(const http::Request& req, std::string_view key, Reply* out) {
  const OwnerMap* map = placement_ != nullptr ? placement_->current() : nullptr;
  if (map == nullptr || !req.Find(kKeyMoveHeader).empty()) return false;
  std::string_view owner;
  switch (map->Check(key, &owner)) {
    case OwnerMap::Verdict::kMine:
      return false;
    case OwnerMap::Verdict::kNotMine:
      scratch_.body.clear();
      fmt::format_to(std::back_inserter(scratch_.body),
                     "this node ({}) does not own the key: its owner is {} (re-read the cluster "
                     "map)\n",
                     map->self(), owner);
      *out = Text(421, scratch_.body);
      out->x_owner = owner;
      return true;
    case OwnerMap::Verdict::kMovingIn:
      *out = Text(503, "the key is being moved to this node (cluster.sh add/remove): retry\n");
      out->retry_after = 1;
      return true;
  }
  return false;
}

Reply KvRoutes::AdminPlacement(const http::Request& req) {
  if (placement_ == nullptr) return Text(404, "this server has no placement to change\n");
  if (req.method == http::Method::kGet || req.method == http::Method::kHead) {
    const OwnerMap* map = placement_->current();
    scratch_.body = map != nullptr ? map->ToJson() : "{}\n";
    Reply r;
    r.content_type = "application/json";
    r.body = scratch_.body;
    return r;
  }
  std::unique_ptr<OwnerMap> map;
  if (req.method == http::Method::kPut) {
    map = std::make_unique<OwnerMap>();
    std::string error;
    if (!OwnerMap::Parse(req.body, map.get(), &error)) {
      scratch_.body = "bad placement: " + error + "\n";
      return Text(400, scratch_.body);
    }
    if (repl_ != nullptr && map->self() != repl_->options().shard) {
      scratch_.body =
          "bad placement: \"self\" must be this member's shard, " + repl_->options().shard + "\n";
      return Text(400, scratch_.body);
    }
  }
  std::string error;
  switch (placement_->Publish(std::move(map), &error)) {
    case PublishedOwnerMap::Outcome::kPublished:
      return Text(204, "");
    case PublishedOwnerMap::Outcome::kBusy:
      return Text(409, "another placement change is being published: retry\n");
    case PublishedOwnerMap::Outcome::kNotSaved:
      scratch_.body =
          "placement not changed: cannot save " + std::string(kPlacementFile) + ": " + error + "\n";
      return Text(500, scratch_.body);
    case PublishedOwnerMap::Outcome::kNotEverywhere:
      break;
  }
  return Text(503, "placement saved, but a reactor thread did not confirm it within 10 s\n");
}

}  // namespace httpkv::server
