#include "server/etcd/etcd_client.h"

#include <fmt/format.h>

#include "server/etcd/base64.h"
#include "server/etcd/json.h"

namespace httpkv::etcd {
namespace {

// gRPC status codes etcd puts in its error answers.
constexpr int64_t kGrpcDeadlineExceeded = 4;
constexpr int64_t kGrpcNotFound = 5;
constexpr int64_t kGrpcUnavailable = 14;

EtcdError Fail(EtcdError::Kind kind, std::string message) {
  return EtcdError{kind, std::move(message)};
}

EtcdError Malformed(std::string_view what) {
  return Fail(EtcdError::kProtocol, fmt::format("unexpected etcd answer: {}", what));
}

std::string B64(std::string_view bytes) {
  return JsonQuote(Base64Encode(bytes));
}

// The range end that selects every key starting with `prefix`: the prefix with its last
// byte below 0xff incremented (trailing 0xff bytes dropped); "\0" (all keys) if none is.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

bool ParseKeyValue(const JsonValue& j, KeyValue* kv) {
  std::string key64, value64;
  return j.is_object() && StringField(j, "key", &key64) && Base64Decode(key64, &kv->key) &&
         StringField(j, "value", &value64) && Base64Decode(value64, &kv->value) &&
         Int64Field(j, "create_revision", 0, &kv->create_revision) &&
         Int64Field(j, "mod_revision", 0, &kv->mod_revision) &&
         Int64Field(j, "version", 0, &kv->version) && Int64Field(j, "lease", 0, &kv->lease);
}

// The "kvs" of a range answer (missing: none).
bool ParseKvs(const JsonValue& range, std::vector<KeyValue>* out) {
  out->clear();
  const JsonValue* kvs = range.Find("kvs");
  if (kvs == nullptr) return true;
  if (!kvs->is_array()) return false;
  for (const JsonValue& item : kvs->items()) {
    KeyValue kv;
    if (!ParseKeyValue(item, &kv)) return false;
    out->push_back(std::move(kv));
  }
  return true;
}

// The error etcd reported in `json`, if any: unary calls answer
// {"error":"text","message":"text","code":5}; streaming ones (lease keep-alive)
// {"error":{"grpc_code":5,"http_code":404,"message":"text",...}}.
bool ReportedError(const JsonValue& json, int64_t* code, std::string* message) {
  const JsonValue* error = json.Find("error");
  if (error == nullptr) return false;
  *code = 0;
  if (error->is_object()) {
    if (!Int64Field(*error, "grpc_code", 0, code)) *code = 0;
    if (!StringField(*error, "message", message)) message->clear();
  } else {
    if (!Int64Field(json, "code", 0, code)) *code = 0;
    *message = error->is_string() ? error->text() : "(no message)";
  }
  return true;
}

// "succeeded" of a txn answer (proto3 omits false).
bool Succeeded(const JsonValue& json) {
  const JsonValue* s = json.Find("succeeded");
  return s != nullptr && s->is_bool() && s->bool_value();
}

std::string CompareCreateRevision(std::string_view key, int64_t create_revision) {
  return fmt::format(R"({{"key":{},"target":"CREATE","result":"EQUAL","create_revision":"{}"}})",
                     B64(key), create_revision);
}

std::string PutOp(std::string_view key, std::string_view value, int64_t lease) {
  return fmt::format(R"({{"key":{},"value":{},"lease":"{}"}})", B64(key), B64(value), lease);
}

}  // namespace

EtcdClient::EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  for (std::string& url : endpoints) {
    Target t;
    Endpoint e;
    if (Endpoint::Parse(url, &e, &t.parse_error)) {
      t.url = e.url;
      t.endpoint = std::move(e);
    } else {
      t.url = std::move(url);
    }
    targets_.push_back(std::move(t));
  }
}

bool EtcdClient::ParseEndpoints(std::string_view comma_list, std::vector<std::string>* out,
                                std::string* error) {
  out->clear();
  size_t start = 0;
  for (;;) {
    size_t comma = comma_list.find(',', start);
    std::string_view item = comma_list.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      *error = comma_list.empty() ? "no etcd endpoints given" : "empty etcd endpoint in the list";
      return false;
    }
    Endpoint e;
    if (!Endpoint::Parse(item, &e, error)) return false;
    out->push_back(e.url);
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

const std::string& EtcdClient::last_endpoint() const {
  static const std::string kNone;
  return targets_.empty() ? kNone : targets_[current_].url;
}

EtcdError EtcdClient::Call(std::string_view path, const std::string& body, JsonValue* json) {
  if (targets_.empty()) return Fail(EtcdError::kUnavailable, "no etcd endpoints configured");
  std::string failures;
  for (size_t i = 0; i < targets_.size(); ++i) {
    size_t index = (current_ + i) % targets_.size();
    const Target& target = targets_[index];
    if (!failures.empty()) failures += "; ";
    if (!target.endpoint) {
      failures += target.parse_error;
      continue;
    }
    auto deadline = GatewayConnection::Clock::now() + timeout_;
    GatewayAnswer answer;
    std::string error;
    if (!conn_.Post(*target.endpoint, path, body, deadline, &answer, &error)) {
      failures += error;
      continue;
    }
    std::string parse_error;
    if (!JsonValue::Parse(answer.body, json, &parse_error)) {
      current_ = index;
      return Malformed(fmt::format("HTTP {} from {} with a body that is not JSON ({})",
                                   answer.status, target.url, parse_error));
    }
    int64_t code = 0;
    std::string message;
    bool reported = ReportedError(*json, &code, &message);
    if (reported && (code == kGrpcUnavailable || code == kGrpcDeadlineExceeded)) {
      failures += fmt::format("{}: {}", target.url, message);  // e.g. no leader: next one
      continue;
    }
    current_ = index;
    if (reported) {
      return Fail(code == kGrpcNotFound ? EtcdError::kNotFound : EtcdError::kProtocol,
                  fmt::format("{}: {}", target.url, message));
    }
    if (answer.status != 200) {
      return Fail(EtcdError::kProtocol, fmt::format("{}: HTTP {}", target.url, answer.status));
    }
    if (!json->is_object()) return Malformed("not a JSON object");
    return {};
  }
  return Fail(EtcdError::kUnavailable, failures);
}

EtcdError EtcdClient::LeaseGrant(int64_t ttl_seconds, int64_t* lease_id) {
  JsonValue json;
  EtcdError e = Call("/v3/lease/grant", fmt::format(R"({{"TTL":"{}"}})", ttl_seconds), &json);
  if (!e.ok()) return e;
  if (!Int64Field(json, "ID", 0, lease_id) || *lease_id == 0) return Malformed("lease ID");
  return {};
}

EtcdError EtcdClient::LeaseKeepAlive(int64_t lease_id, int64_t* ttl_left) {
  JsonValue json;
  EtcdError e = Call("/v3/lease/keepalive", fmt::format(R"({{"ID":"{}"}})", lease_id), &json);
  if (!e.ok()) return e;
  // A streaming call: each answer comes wrapped as {"result":{...}}.
  const JsonValue* result = json.Find("result");
  if (result == nullptr || !result->is_object()) return Malformed("keep-alive without result");
  if (!Int64Field(*result, "TTL", 0, ttl_left)) return Malformed("keep-alive TTL");
  // An unknown or expired lease is answered with TTL 0 (omitted), not an error.
  if (*ttl_left <= 0) {
    return Fail(EtcdError::kNotFound, fmt::format("lease {:x} not found", lease_id));
  }
  return {};
}

EtcdError EtcdClient::LeaseRevoke(int64_t lease_id) {
  JsonValue json;
  return Call("/v3/lease/revoke", fmt::format(R"({{"ID":"{}"}})", lease_id), &json);
}

EtcdError EtcdClient::CreateIfAbsent(std::string_view key, std::string_view value, int64_t lease,
                                     bool* created, KeyValue* current) {
  std::string range = fmt::format(R"({{"request_range":{{"key":{}}}}})", B64(key));
  std::string body =
      fmt::format(R"({{"compare":[{}],"success":[{{"request_put":{}}},{}],"failure":[{}]}})",
                  CompareCreateRevision(key, 0), PutOp(key, value, lease), range, range);
  JsonValue json;
  EtcdError e = Call("/v3/kv/txn", body, &json);
  if (!e.ok()) return e;
  const JsonValue* responses = json.Find("responses");
  if (responses == nullptr || !responses->is_array() || responses->items().empty()) {
    return Malformed("txn without responses");
  }
  const JsonValue* got = responses->items().back().Find("response_range");
  std::vector<KeyValue> kvs;
  if (got == nullptr || !ParseKvs(*got, &kvs)) return Malformed("txn range response");
  if (kvs.size() != 1) return Malformed("txn range did not find the key");
  *current = std::move(kvs[0]);
  *created = Succeeded(json) || (lease != 0 && current->lease == lease);
  return {};
}

EtcdError EtcdClient::Get(std::string_view key, std::optional<KeyValue>* out,
                          int64_t* header_revision) {
  JsonValue json;
  EtcdError e = Call("/v3/kv/range", fmt::format(R"({{"key":{}}})", B64(key)), &json);
  if (!e.ok()) return e;
  std::vector<KeyValue> kvs;
  if (!ParseKvs(json, &kvs) || kvs.size() > 1) return Malformed("range kvs");
  if (header_revision != nullptr) {
    const JsonValue* header = json.Find("header");
    if (header == nullptr || !Int64Field(*header, "revision", 0, header_revision)) {
      return Malformed("header revision");
    }
  }
  out->reset();
  if (!kvs.empty()) *out = std::move(kvs[0]);
  return {};
}

EtcdError EtcdClient::GetPrefix(std::string_view prefix, std::vector<KeyValue>* out) {
  std::string start = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  JsonValue json;
  EtcdError e = Call(
      "/v3/kv/range",
      fmt::format(R"({{"key":{},"range_end":{}}})", B64(start), B64(PrefixEnd(prefix))), &json);
  if (!e.ok()) return e;
  if (!ParseKvs(json, out)) return Malformed("range kvs");
  return {};
}

EtcdError EtcdClient::Put(std::string_view key, std::string_view value, int64_t lease) {
  JsonValue json;
  return Call("/v3/kv/put", PutOp(key, value, lease), &json);
}

EtcdError EtcdClient::DeleteIfCreateRevision(std::string_view key, int64_t create_revision,
                                             bool* deleted) {
  std::string body =
      fmt::format(R"({{"compare":[{}],"success":[{{"request_delete_range":{{"key":{}}}}}]}})",
                  CompareCreateRevision(key, create_revision), B64(key));
  JsonValue json;
  EtcdError e = Call("/v3/kv/txn", body, &json);
  if (!e.ok()) return e;
  *deleted = Succeeded(json);
  return {};
}

EtcdError EtcdClient::PutIfCreateRevision(std::string_view key, std::string_view value,
                                          int64_t create_revision, int64_t lease, bool* done) {
  std::string body =
      fmt::format(R"({{"compare":[{}],"success":[{{"request_put":{}}}]}})",
                  CompareCreateRevision(key, create_revision), PutOp(key, value, lease));
  JsonValue json;
  EtcdError e = Call("/v3/kv/txn", body, &json);
  if (!e.ok()) return e;
  *done = Succeeded(json);
  return {};
}

}  // namespace httpkv::etcd
