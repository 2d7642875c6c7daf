// ?ttl=SECONDS on writes (PUT /kv/{key}, POST /create, PUT /update): a positive integer
// number of seconds, at most kMaxTtlSeconds.
#pragma once

#include <cstdint>
#include <string_view>

namespace httpkv::server {

inline constexpr uint64_t kMaxTtlSeconds = uint64_t{10} * 365 * 24 * 3600;  // ten years

// Finds ttl= in the raw query. No ttl: 0 in *expires_at_ms and an empty reason. A bad
// value: a one-line reason (for a 400). Otherwise *expires_at_ms = now_ms + ttl * 1000.
// Allocates nothing; reads no clock unless a ttl is present.
std::string_view ParseTtlQuery(std::string_view query, uint64_t* expires_at_ms);

// X-Expires-In: whole seconds left, rounded up (at least 1 while the value is readable).
uint64_t SecondsLeft(uint64_t expires_at_ms, uint64_t now_ms);

}  // namespace httpkv::server
