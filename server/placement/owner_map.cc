#include "server/placement/owner_map.h"

#include <algorithm>

#include "server/etcd/json.h"

namespace httpkv::placement {
namespace {

// Empty view if `names` is a valid owner list (may be empty), else why not.
std::string_view CheckNames(const std::vector<std::string>& names) {
  std::vector<uint32_t> seeds;
  for (const std::string& n : names) {
    const uint32_t k = PlacementSeed(n);
    if (k == 0) return "an owner name is not nK or sK (K a positive number)";
    if (std::find(seeds.begin(), seeds.end(), k) != seeds.end()) {
      return "two owners with the same number K";
    }
    seeds.push_back(k);
  }
  return {};
}

size_t IndexOf(const std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? static_cast<size_t>(-1) : static_cast<size_t>(it - names.begin());
}

bool NameList(const etcd::JsonValue& doc, std::string_view field, std::vector<std::string>* out,
              std::string* error) {
  const etcd::JsonValue* list = doc.Find(field);
  if (list == nullptr) return true;
  if (!list->is_array()) {
    *error = std::string("\"") + std::string(field) + "\" is not a list of names";
    return false;
  }
  for (const etcd::JsonValue& v : list->items()) {
    if (!v.is_string()) {
      *error = std::string("\"") + std::string(field) + "\" is not a list of names";
      return false;
    }
    out->push_back(v.text());
  }
  return true;
}

void AppendList(const std::vector<std::string>& names, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out->push_back(',');
    etcd::AppendJsonString(names[i], out);
  }
  out->push_back(']');
}

}  // namespace

bool OwnerMap::Make(std::vector<std::string> owners, std::vector<std::string> before,
                    std::string self, OwnerMap* out, std::string* error) {
  std::string_view bad = owners.empty() ? "no owners" : CheckNames(owners);
  if (bad.empty()) bad = CheckNames(before);
  if (bad.empty() && IndexOf(owners, self) == kNone && IndexOf(before, self) == kNone) {
    bad = "\"self\" is neither in \"owners\" nor in \"before\"";
  }
  if (!bad.empty()) {
    *error = bad;
    return false;
  }
  OwnerMap m;
  m.self_now_ = IndexOf(owners, self);
  m.self_before_ = IndexOf(before, self);
  m.now_ = Placement(std::move(owners));
  m.before_ = Placement(std::move(before));
  m.self_ = std::move(self);
  *out = std::move(m);
  return true;
}

bool OwnerMap::Parse(std::string_view json, OwnerMap* out, std::string* error) {
  etcd::JsonValue doc;
  if (!etcd::JsonValue::Parse(json, &doc, error)) return false;
  std::vector<std::string> owners, before;
  std::string self;
  if (!doc.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  if (!NameList(doc, "owners", &owners, error) || !NameList(doc, "before", &before, error)) {
    return false;
  }
  if (!etcd::StringField(doc, "self", &self)) {
    *error = "\"self\" is not a string";
    return false;
  }
  return Make(std::move(owners), std::move(before), std::move(self), out, error);
}

std::string OwnerMap::ToJson() const {
  std::string out = "{\"owners\":";
  AppendList(owners(), &out);
  if (!before().empty()) {
    out += ",\"before\":";
    AppendList(before(), &out);
  }
  out += ",\"self\":";
  etcd::AppendJsonString(self_, &out);
  out += "}\n";
  return out;
}

OwnerMap::Verdict OwnerMap::Check(std::string_view key, std::string_view* owner) const {
  const size_t i = now_.OwnerIndex(key);
  if (i != self_now_) {
    *owner = now_.names()[i];
    return Verdict::kNotMine;
  }
  if (!before().empty() && before_.OwnerIndex(key) != self_before_) return Verdict::kMovingIn;
  return Verdict::kMine;
}

}  // namespace httpkv::placement
