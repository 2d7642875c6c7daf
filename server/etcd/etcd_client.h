// A blocking etcd v3 client over etcd's JSON gateway (HTTP/1.1, no gRPC): the handful of
// KV, transaction and lease calls a leader election needs. Used from one dedicated
// (non-reactor) thread; not thread-safe.
//
// Each call tries the endpoint that answered last first, then the others in order, each
// with `timeout` for connect + request + answer; it never blocks longer than
// endpoints * timeout. An endpoint that does not answer, or answers with gRPC code
// Unavailable / DeadlineExceeded (no leader, a partitioned member), makes the call move
// on to the next one. A call retried on another endpoint may have been applied by the
// first: the conditional calls below are written so that a retry is harmless.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/etcd/gateway_connection.h"

namespace httpkv::etcd {

class JsonValue;

struct EtcdError {
  enum Kind {
    kOk,
    kUnavailable,  // no endpoint answered in time
    kProtocol,     // unparseable or unexpected answer, or an error etcd reported
    kNotFound,     // e.g. the lease is gone (gRPC NotFound)
  } kind = kOk;
  std::string message;
  bool ok() const { return kind == kOk; }
};

struct KeyValue {
  std::string key, value;
  int64_t create_revision = 0, mod_revision = 0, version = 0, lease = 0;
};

class EtcdClient {
 public:
  // endpoints: "http://127.0.0.1:2379" style (loopback http only; check them with
  // ParseEndpoints first: an invalid one here is skipped by every call as unavailable).
  EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);

  // Splits a comma-separated list ("http://127.0.0.1:2379,http://[::1]:22379"), validates
  // and normalises each entry into *out. False with *error for an empty list or entry,
  // https, a non-loopback host, a missing or bad port, or a path.
  static bool ParseEndpoints(std::string_view comma_list, std::vector<std::string>* out,
                             std::string* error);

  EtcdError LeaseGrant(int64_t ttl_seconds, int64_t* lease_id);
  // One keep-alive round trip; *ttl_left is the TTL the lease was renewed to. A lease
  // that expired or never existed → kNotFound.
  EtcdError LeaseKeepAlive(int64_t lease_id, int64_t* ttl_left);
  // Unknown lease → kNotFound.
  EtcdError LeaseRevoke(int64_t lease_id);

  // Txn: creates key=value attached to `lease` only if the key does not exist (compare
  // create_revision == 0). *created: the key is ours; that includes finding it already
  // attached to `lease` (non-zero), i.e. an earlier attempt of ours whose answer was lost.
  // *current: the key as it is after the txn (ours or the existing holder's).
  // A lease that does not exist → kNotFound.
  EtcdError CreateIfAbsent(std::string_view key, std::string_view value, int64_t lease,
                           bool* created, KeyValue* current);
  // *out is empty when the key does not exist; *header_revision is the store's revision.
  EtcdError Get(std::string_view key, std::optional<KeyValue>* out,
                int64_t* header_revision = nullptr);
  // All keys starting with `prefix`, in key order (every key for an empty prefix).
  EtcdError GetPrefix(std::string_view prefix, std::vector<KeyValue>* out);
  EtcdError Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Deletes key only if its create_revision is `create_revision` (a leader steps down
  // without deleting a successor's key). *deleted says whether it did.
  EtcdError DeleteIfCreateRevision(std::string_view key, int64_t create_revision, bool* deleted);
  // Puts only if the key's create_revision is `create_revision` (updates our own leader
  // key's value, attached to `lease`); *done says whether it did.
  EtcdError PutIfCreateRevision(std::string_view key, std::string_view value,
                                int64_t create_revision, int64_t lease, bool* done);

  // The endpoint that answered last (the first one before any answer).
  const std::string& last_endpoint() const;
  // Calls leave from this local IP address (GatewayConnection::SetSourceAddress).
  bool SetSourceAddress(const std::string& ip) { return conn_.SetSourceAddress(ip); }

 private:
  struct Target {
    std::string url;  // as given, normalised when it parsed
    std::optional<Endpoint> endpoint;
    std::string parse_error;
  };

  // POSTs `body` to `path`, failing over across endpoints; on kOk *json is the parsed
  // answer of a 200 without an "error" member.
  EtcdError Call(std::string_view path, const std::string& body, JsonValue* json);

  std::vector<Target> targets_;
  std::chrono::milliseconds timeout_;
  size_t current_ = 0;
  GatewayConnection conn_;
};

}  // namespace httpkv::etcd
