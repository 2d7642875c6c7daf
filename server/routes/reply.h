// Reply: what a route handler decided, before it is serialized. Views point into the
// request, static text, the worker's RouteScratch, or (a GET's body) the store's segment
// mapping pinned by KvRoutes until EndRead(), all alive until the reply is written. Keeping
// handlers free of wire details makes HEAD and errors uniform.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/response_writer.h"
#include "reactor/buffer.h"
#include "server/base/route_table.h"
#include "storage/log_store.h"

namespace httpkv::server {

struct Reply {
  int status = 200;
  Route route = Route::kNone;     // for metrics
  std::string_view content_type;  // empty: no Content-Type
  std::string_view body;
  std::string_view allow;             // Allow header (405, OPTIONS)
  std::string_view location;          // Location header (201)
  std::string_view etag;              // ETag header
  std::string_view www_authenticate;  // WWW-Authenticate header (401)
  // HEAD answered from metadata: Content-Length is this, body is not read at all.
  int64_t head_length = -1;
  // Set when `body` is only the first batch of a listing that continues: the answer is
  // sent chunked and the worker keeps rendering from this cursor.
  struct ListingCursor* stream = nullptr;
  // Log position of the write this reply acknowledges (0: no write). Under
  // --fsync always the reply is held until the log is durable up to here.
  uint64_t sync_token = 0;
  // X-Seq (-1: none): the store's SEQ for reads, the write's own SEQ for writes.
  int64_t x_seq = -1;
  // X-Seq-Horizon (410 on a watch from before the history compaction kept; -1: none).
  int64_t seq_horizon = -1;
  // A change feed starts (GET /kv/?watch=1): a chunked text/event-stream head; the worker
  // then streams events from KvRoutes::watch() (server/feed/feed_watchers.h).
  bool event_stream = false;
  // X-Expires-In (a value written with ?ttl=; -1: none).
  int64_t expires_in = -1;
  // Replication (server/replication): X-Primary, where a refused write should go; Retry-After
  // seconds (-1: none); a log fetch's X-Log-End, X-Commit, X-Term and a 409's X-Truncate-To.
  std::string_view x_primary;
  // Placement (a 421 for another node's key): X-Owner, the key's owner (node or shard name).
  std::string_view x_owner;
  std::string_view x_term_history;  // a log fetch's X-Term-History: "TERM:SEQ,..."
  int64_t retry_after = -1;
  int64_t log_end = -1, commit = -1, term = -1, truncate_to = -1;
  // POST /replication/log: the worker answers it (it may hold it until records arrive);
  // the parsed request is KvRoutes::fetch().
  bool replication_fetch = false;
};

// Serializes a Reply (status line, Date, Allow/Location/ETag, framing, body) into `out`.
// HEAD keeps the GET's framing headers and sends no body; 1xx/204/304 carry no length.
// date: the Date header's value (http::HttpDate(), or a loop's cached one).
void SerializeReply(const Reply& reply, bool head, http::ConnectionHeader connection,
                    std::string_view date, reactor::Buffer* out);

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

// Per-worker buffers reused by every request so handlers do not allocate in the
// steady state.
struct ListingCursor;

struct RouteScratch {
  std::string key;
  std::string body;
  std::string etag;
  std::string location;
  std::string query[3];  // decoded prefix, after, limit
};

// What a watch request asked for, filled by KvRoutes for the worker.
struct WatchRequest {
  std::string prefix;
  storage::FeedCursor cursor;
};

}  // namespace httpkv::server
