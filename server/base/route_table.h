// RouteTable: maps a request path to one of the server's resources and says which
// methods each resource allows. Kept apart from the handlers so that Expect:
// 100-continue can be decided from the head alone, before any body is read.
#pragma once

#include <string_view>

#include "http/method.h"

namespace httpkv::server {

enum class Route : uint8_t {
  kRoot,              // GET/HEAD /            listing
  kCreate,            // POST /create          key:value
  kUpdate,            // PUT /update           key:value
  kKv,                // /kv/{key}
  kHealthz,           // liveness
  kReadyz,            // readiness (recovery done)
  kMetrics,           // Prometheus text
  kAdminCompact,      // POST /admin/compact
  kPrimary,           // GET/HEAD /primary: 200 while this member is its shard's primary
  kReplica,           // GET/HEAD /replica: 200 while a replica streaming from the primary
  kAdminReplication,  // GET/HEAD /admin/replication: role, term, replicas (JSON)
  kReplicationLog,    // POST /replication/log: a replica fetches records (log_shipping.h)
  kAdminPlacement,    // GET/HEAD/PUT/DELETE /admin/placement: which keys are this node's
  kAsterisk,          // OPTIONS *
  kNone,              // 404
};

struct RouteMatch {
  Route route = Route::kNone;
  std::string_view raw_key;  // kKv: the still percent-encoded key after "/kv/"
};

RouteMatch MatchRoute(std::string_view path);
bool MethodAllowed(Route route, http::Method method);
inline constexpr size_t kRouteCount = static_cast<size_t>(Route::kNone) + 1;
// Metric label: "root", "create", "kv", ...
std::string_view RouteName(Route route);
// Value of the Allow header for the route (RFC 9110 10.2.1).
std::string_view AllowHeader(Route route);

}  // namespace httpkv::server
