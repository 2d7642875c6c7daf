#include "cluster/cluster_map.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "server/etcd/json.h"

namespace httpkv::cluster {
namespace {

using etcd::JsonValue;

bool ParseNodes(const JsonValue& doc, std::vector<Member>* nodes, std::vector<std::string>* shard,
                std::string* error) {
  const JsonValue* list = doc.Find("nodes");
  if (list == nullptr || !list->is_array() || list->items().empty()) {
    *error = "no \"nodes\" list";
    return false;
  }
  for (const JsonValue& n : list->items()) {
    Member m;
    std::string s;
    if (!n.is_object() || !etcd::StringField(n, "name", &m.name) ||
        !etcd::StringField(n, "addr", &m.addr) || !etcd::StringField(n, "shard", &s) ||
        m.name.empty() || m.addr.empty()) {
      *error = "a node without a string \"name\" and \"addr\"";
      return false;
    }
    nodes->push_back(std::move(m));
    shard->push_back(std::move(s));
  }
  return true;
}

// With replicas: one owner per shard, its members in the order of "nodes".
void GroupByShard(const std::vector<Member>& nodes, const std::vector<std::string>& shard,
                  std::vector<Owner>* owners) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto it = std::find_if(owners->begin(), owners->end(),
                           [&](const Owner& o) { return o.name == shard[i]; });
    if (it == owners->end()) it = owners->insert(owners->end(), Owner{shard[i], {}});
    it->members.push_back(nodes[i]);
  }
}

// "placement": only the owners it names place keys (each must be an owner of the file).
bool KeepPlaced(const JsonValue& doc, std::vector<Owner>* owners, std::string* error) {
  const JsonValue* list = doc.Find("placement");
  if (list == nullptr) return true;
  std::vector<Owner> placed;
  for (const JsonValue& v : list->is_array() ? list->items() : std::vector<JsonValue>{}) {
    auto it = std::find_if(owners->begin(), owners->end(),
                           [&](const Owner& o) { return v.is_string() && o.name == v.text(); });
    if (it == owners->end()) {
      *error = "\"placement\" names an owner that is not in \"nodes\"";
      return false;
    }
    placed.push_back(*it);
  }
  if (placed.empty()) {
    *error = "\"placement\" is not a list of owner names";
    return false;
  }
  *owners = std::move(placed);
  return true;
}

}  // namespace

bool ClusterMap::Parse(std::string_view text, ClusterMap* out, std::string* error) {
  JsonValue doc;
  if (!JsonValue::Parse(text, &doc, error)) return false;
  ClusterMap m;
  if (!doc.is_object() || !etcd::StringField(doc, "front", &m.front_)) {
    *error = "not a cluster map (want an object with a string \"front\")";
    return false;
  }
  std::vector<Member> nodes;
  std::vector<std::string> shard;
  if (!ParseNodes(doc, &nodes, &shard, error)) return false;
  m.replicated_ = std::any_of(shard.begin(), shard.end(), [](auto& s) { return !s.empty(); });
  if (m.replicated_ && std::any_of(shard.begin(), shard.end(), [](auto& s) { return s.empty(); })) {
    *error = "some nodes have a \"shard\" and others not";
    return false;
  }
  if (m.replicated_) {
    GroupByShard(nodes, shard, &m.owners_);
  } else {
    for (Member& n : nodes) m.owners_.push_back(Owner{n.name, {n}});
  }
  if (!KeepPlaced(doc, &m.owners_, error)) return false;
  std::stable_sort(m.owners_.begin(), m.owners_.end(), [](const Owner& a, const Owner& b) {
    return PlacementSeed(a.name) < PlacementSeed(b.name);
  });
  std::vector<std::string> names;
  for (const Owner& o : m.owners_) names.push_back(o.name);
  m.placement_ = Placement(std::move(names));
  *out = std::move(m);
  return true;
}

bool ClusterMap::Load(const std::string& path, ClusterMap* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    *error = path + ": cannot read";
    return false;
  }
  if (Parse(text.str(), out, error)) return true;
  *error = path + ": " + *error;
  return false;
}

std::vector<Member> ClusterMap::AllMembers() const {
  std::vector<Member> all;
  for (const Owner& o : owners_) all.insert(all.end(), o.members.begin(), o.members.end());
  return all;
}

}  // namespace httpkv::cluster
