// Strong entity tags derived from the store's per-record version (sequence number).
// The version survives restarts, so an ETag stays valid across them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace httpkv::server {

// Writes "\"<hex version>\"" into *out (capacity reused).
void FormatEtag(uint64_t version, std::string* out);

// True if an If-Match / If-None-Match field value lists the tag of `version`, or is "*".
// Comparison is weak (a W/ prefix is ignored), which RFC 9110 13.1.2 requires for
// If-None-Match and is harmless for our always-strong tags.
bool EtagListMatches(std::string_view field, uint64_t version);

}  // namespace httpkv::server
