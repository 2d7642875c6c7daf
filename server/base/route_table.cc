#include "server/base/route_table.h"

namespace httpkv::server {

using http::Method;

RouteMatch MatchRoute(std::string_view path) {
  if (path == "/") return {Route::kRoot, {}};
  if (path.starts_with("/kv/")) return {Route::kKv, path.substr(4)};
  if (path == "/create") return {Route::kCreate, {}};
  if (path == "/update") return {Route::kUpdate, {}};
  if (path == "/healthz") return {Route::kHealthz, {}};
  if (path == "/readyz") return {Route::kReadyz, {}};
  if (path == "/metrics") return {Route::kMetrics, {}};
  if (path == "/admin/compact") return {Route::kAdminCompact, {}};
  if (path == "/primary") return {Route::kPrimary, {}};
  if (path == "/replica") return {Route::kReplica, {}};
  if (path == "/admin/replication") return {Route::kAdminReplication, {}};
  if (path == "/replication/log") return {Route::kReplicationLog, {}};
  if (path == "/admin/placement") return {Route::kAdminPlacement, {}};
  if (path == "*") return {Route::kAsterisk, {}};
  return {Route::kNone, {}};
}

bool MethodAllowed(Route route, Method m) {
  if (m == Method::kOptions) return route != Route::kNone;
  switch (route) {
    case Route::kRoot:
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kMetrics:
    case Route::kPrimary:
    case Route::kReplica:
    case Route::kAdminReplication:
      return m == Method::kGet || m == Method::kHead;
    case Route::kCreate:
    case Route::kAdminCompact:
    case Route::kReplicationLog:
      return m == Method::kPost;
    case Route::kUpdate:
      return m == Method::kPut;
    case Route::kKv:
    case Route::kAdminPlacement:
      return m == Method::kGet || m == Method::kHead || m == Method::kPut || m == Method::kDelete;
    case Route::kAsterisk:
    case Route::kNone:
      break;
  }
  return false;
}

std::string_view RouteName(Route route) {
  static constexpr std::string_view kNames[kRouteCount] = {"root",
                                                           "create",
                                                           "update",
                                                           "kv",
                                                           "healthz",
                                                           "readyz",
                                                           "metrics",
                                                           "admin_compact",
                                                           "primary",
                                                           "replica",
                                                           "admin_replication",
                                                           "replication_log",
                                                           "admin_placement",
                                                           "asterisk",
                                                           "none"};
  return kNames[static_cast<size_t>(route)];
}

std::string_view AllowHeader(Route route) {
  switch (route) {
    case Route::kRoot:
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kMetrics:
    case Route::kPrimary:
    case Route::kReplica:
    case Route::kAdminReplication:
      return "GET, HEAD, OPTIONS";
    case Route::kCreate:
    case Route::kAdminCompact:
    case Route::kReplicationLog:
      return "POST, OPTIONS";
    case Route::kUpdate:
      return "PUT, OPTIONS";
    case Route::kKv:
    case Route::kAdminPlacement:
      return "GET, HEAD, PUT, DELETE, OPTIONS";
    case Route::kAsterisk:
      return "GET, HEAD, POST, PUT, DELETE, OPTIONS";
    case Route::kNone:
      break;
  }
  return "";
}

}  // namespace httpkv::server
