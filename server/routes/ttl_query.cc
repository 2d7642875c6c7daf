#include "server/routes/ttl_query.h"

#include "storage/log_store.h"

namespace httpkv::server {

std::string_view ParseTtlQuery(std::string_view query, uint64_t* expires_at_ms) {
  *expires_at_ms = 0;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!pair.starts_with("ttl=") && pair != "ttl") continue;
    const std::string_view v = pair.size() > 4 ? pair.substr(4) : std::string_view();
    if (v.empty()) return "ttl must be a positive integer number of seconds";
    uint64_t ttl = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return "ttl must be a positive integer number of seconds";
      ttl = ttl * 10 + static_cast<uint64_t>(c - '0');
      if (ttl > kMaxTtlSeconds) return "ttl too large (at most ten years)";
    }
    if (ttl == 0) return "ttl must be a positive integer number of seconds";
    *expires_at_ms = storage::LogStore::NowMs() + ttl * 1000;
  }
  return {};
}

uint64_t SecondsLeft(uint64_t expires_at_ms, uint64_t now_ms) {
  if (expires_at_ms <= now_ms) return 0;
  return (expires_at_ms - now_ms + 999) / 1000;
}

}  // namespace httpkv::server
