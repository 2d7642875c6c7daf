// KvRoutes: the application — seed routes (/, /create, /update), the /kv/{key} resource,
// health, metrics and admin endpoints — as functions from a parsed request to a Reply.
// It knows nothing of sockets or the parser; the HTTP session serializes the Reply.
//
// Thread-safety: one KvRoutes per reactor thread (its RouteScratch is per thread); the
// LogStore it calls is shared and thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/request.h"
#include "server/base/route_table.h"
#include "server/base/server_options.h"
#include "server/replication/log_shipping.h"
#include "server/replication/replication_node.h"
#include "server/routes/listing.h"
#include "server/routes/published_owner_map.h"
#include "server/routes/reply.h"
#include "storage/log_store.h"

namespace httpkv::server {

class KvRoutes {
 public:
  using MetricsRenderer = std::function<void(std::string* out)>;

  KvRoutes(storage::LogStore* store, const ServerOptions* opts, MetricsRenderer metrics);

  // Answers one complete request. A GET reply's body may view a value inside the store's
  // segment mapping, valid until EndRead(): serialize the reply, then call EndRead() at once
  // (the read section must not span blocking or waiting; the next Handle() also ends it).
  Reply Handle(const http::Request& req);
  void EndRead() { read_pin_.reset(); }
  // After a Reply with event_stream: where the new watcher starts and what it filters.
  WatchRequest& watch() { return watch_; }
  // A member of a replicated shard (nullptr: standalone). Before the first request.
  void SetReplication(replication::ReplicationNode* repl) { repl_ = repl; }
  // The node's placement (shared by every loop; nullptr: every key is served here). Before
  // the first request.
  void SetPlacement(PublishedOwnerMap* placement) { placement_ = placement; }
  // After a Reply with replication_fetch: the replica's request (kv_routes_replication.cc).
  const replication::FetchRequest& fetch() const { return fetch_; }
  // A write cannot be taken here now: 421 naming the primary, or 503 while none is known.
  Reply NotPrimary();

  // For Expect: 100-continue — 0 if the body will be read, else the final status to send
  // instead (404, 405, 501), decided from the head alone.
  static int EarlyStatus(const http::Request& req);

 private:
  Reply Dispatch(const http::Request& req, const RouteMatch& m);
  Reply HandleKv(const http::Request& req, std::string_view raw_key);
  Reply GetKv(const http::Request& req);
  Reply PutKv(const http::Request& req);
  Reply DeleteKv();
  Reply CreateOrUpdate(const http::Request& req, bool create);
  Reply Listing(const http::Request& req);
  // GET /kv/?watch=1&prefix=P&since=SEQ (kv_routes_watch.cc).
  Reply Watch(const http::Request& req);
  Reply Options(Route route);
  // Replication routes (kv_routes_replication.cc): /primary, /replica, /admin/replication,
  // and the parsing of POST /replication/log.
  Reply Replication(const http::Request& req, Route route);
  bool RefusesWrites() const;
  // Placement (kv_routes_placement.cc): true with *out = 421 (another node's key) or 503 (a
  // key being moved here) unless the key is this node's or the request is the mover's.
  bool NotOwnedHere(const http::Request& req, std::string_view key, Reply* out);
  Reply AdminPlacement(const http::Request& req);
  Reply Text(int status, std::string_view body);
  Reply StoreError(const storage::Status& st);
  Reply PreconditionFailed();
  // Validates and decodes a key into scratch_.key; empty view on success, else a reason.
  std::string_view DecodeKey(std::string_view raw);

  storage::LogStore* store_;
  const ServerOptions* opts_;
  MetricsRenderer metrics_;
  RouteScratch scratch_;
  std::unique_ptr<ListingCursor> cursor_;  // the listing being rendered by Handle()
  WatchRequest watch_;
  replication::ReplicationNode* repl_ = nullptr;
  PublishedOwnerMap* placement_ = nullptr;
  replication::FetchRequest fetch_;
  std::string primary_;  // X-Primary of the reply being made
  // Read section holding the mapping a GET reply's body points into (storage/epoch.h).
  std::optional<storage::Epoch::ReadGuard> read_pin_;
};

// Listings up to this size are answered with Content-Length; larger ones are streamed
// as chunks of about this size.
inline constexpr size_t kListingBatchBytes = 64 * 1024;

// The key mover's requests (tools/cluster/rebalance.py) carry it: taken whatever the
// placement says (the mover copies keys to a node before they are its own, and reads and
// deletes them on a node after they left it). Needs an admin token under --auth-file.
inline constexpr std::string_view kKeyMoveHeader = "X-Key-Move";

// True when a GET /kv/ query asks for the change feed (has watch=1).
bool IsWatchQuery(std::string_view query);

// SPEC key rules (1..1024 bytes, no control characters); empty view if valid.
std::string_view CheckKey(std::string_view key);

}  // namespace httpkv::server
