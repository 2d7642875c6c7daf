// The seed route GET /: every pair as "key:value" lines (or a JSON object), keys in byte
// order, paged with ?prefix=, ?after= and ?limit=.
//
// ?ttls=1 (JSON only; for the cluster mover, README "Several nodes"): a value that expires
// is rendered as ["value",SECONDS] (SECONDS left, rounded up as X-Expires-In), other values
// as plain strings, so one listing carries everything a copy of the pairs needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/routes/reply.h"
#include "storage/log_store.h"

namespace httpkv::server {

struct ListingQuery {
  std::string_view prefix;
  std::string_view after;
  size_t limit = SIZE_MAX;
  bool json = false;
  bool ttls = false;  // ?ttls=1
};

// Parses the raw query string (form encoding: '+' is a space, %XX escapes). Decoded
// values live in scratch->query. Returns an empty view on success, else a one-line reason.
std::string_view ParseListingQuery(std::string_view raw_query, RouteScratch* scratch,
                                   ListingQuery* q);

// Where a listing stands between batches. Large listings are streamed: each batch is
// rendered into a bounded buffer and sent as one chunk, so memory stays flat whatever
// the store holds. A streamed listing is not a point-in-time snapshot: keys written
// meanwhile after the cursor may appear, which is what paging with ?after= gives too.
struct ListingCursor {
  std::string prefix;
  std::string after;  // last key emitted (exclusive lower bound of the next batch)
  size_t remaining = SIZE_MAX;
  bool json = false;
  bool ttls = false;
  bool started = false;  // opening brace / first element written
  bool done = false;
  void Reset(const ListingQuery& q);
};

// Appends entries after the cursor to *out until it holds at least max_bytes or the
// listing ends (then the JSON closing brace is appended and cursor->done is set).
storage::Status RenderListingBatch(const storage::LogStore& store, ListingCursor* cursor,
                                   size_t max_bytes, std::string* out);

// Appends "key":"value", or "key":["value",SECONDS] when expires_at_ms is not 0.
void AppendJsonEntry(std::string_view key, std::string_view value, uint64_t expires_at_ms,
                     uint64_t now_ms, std::string* out);

// Appends `s` as a JSON string literal (quotes included). Bytes >= 0x80 pass through
// (values are expected to be UTF-8); control characters become \u00XX.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace httpkv::server
