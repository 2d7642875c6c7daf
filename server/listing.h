// The seed route GET /: every pair as "key:value" lines (or a JSON object), keys in byte
// order, paged with ?prefix=, ?after= and ?limit=.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "server/reply.h"
#include "storage/log_store.h"

namespace httpkv::server {

struct ListingQuery {
  std::string_view prefix;
  std::string_view after;
  size_t limit = SIZE_MAX;
  bool json = false;
};

// Parses the raw query string (form encoding: '+' is a space, %XX escapes). Decoded
// values live in scratch->query. Returns an empty view on success, else a one-line reason.
std::string_view ParseListingQuery(std::string_view raw_query, RouteScratch* scratch,
                                   ListingQuery* q);

// Replaces *out with the listing.
storage::Status RenderListing(const storage::LogStore& store, const ListingQuery& q,
                              std::string* out);

// Appends `s` as a JSON string literal (quotes included). Bytes >= 0x80 pass through
// (values are expected to be UTF-8); control characters become \u00XX.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace httpkv::server
