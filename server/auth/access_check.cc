#include "server/auth/access_check.h"

#include "server/routes/kv_routes.h"

namespace httpkv::server {

using http::Method;

Scope RequiredScope(Route route, Method method) {
  // No default: a new route does not compile (-Werror=switch) until it is classified here.
  switch (route) {
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kPrimary:  // health checks (HAProxy's httpchk sends no token)
    case Route::kReplica:
      return Scope::kOpen;
    case Route::kAdminCompact:
    case Route::kAdminReplication:
    case Route::kReplicationLog:  // the whole log: a replica needs an admin token
    case Route::kAdminPlacement:
      return Scope::kAdmin;
    case Route::kRoot:
    case Route::kCreate:
    case Route::kUpdate:
    case Route::kKv:
    case Route::kMetrics:
    case Route::kAsterisk:
    case Route::kNone:
      break;
  }
  switch (method) {
    case Method::kPost:
    case Method::kPut:
    case Method::kDelete:
      return Scope::kWrite;
    case Method::kGet:
    case Method::kHead:
    case Method::kOptions:
    case Method::kOther:
      break;
  }
  return Scope::kRead;
}

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !http::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  // token68 (RFC 9110 11.2): the token file refuses anything else, so a header with
  // other bytes can hold no known token; checking here keeps the reason precise.
  size_t i = 0;
  auto tchar = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < token.size() && tchar(token[i])) ++i;
  if (i == 0) return {};
  while (i < token.size() && token[i] == '=') ++i;
  return i == token.size() ? token : std::string_view{};
}

AccessDecision CheckAccess(const TokenSet* tokens, const http::Request& req, Route route) {
  AccessDecision d;
  d.needed = RequiredScope(route, req.method);
  // The key mover's bypass of the placement (server/routes/kv_routes.h) is an admin's act.
  if (d.needed != Scope::kOpen && !req.Find(kKeyMoveHeader).empty()) d.needed = Scope::kAdmin;
  if (d.needed == Scope::kOpen) return d;
  std::string_view value;
  int count = 0;
  for (size_t i = 0; i < req.num_headers; ++i) {
    if (http::EqualsIgnoreCase(req.headers[i].name, "Authorization")) {
      value = req.headers[i].value;
      ++count;
    }
  }
  if (count == 0) {
    d.denial = Denial::kMissingToken;
    return d;
  }
  const std::string_view token = count == 1 ? BearerToken(value) : std::string_view{};
  if (token.empty()) {
    d.denial = Denial::kMalformedHeader;
    return d;
  }
  d.who = tokens != nullptr ? tokens->Find(token) : nullptr;
  if (d.who == nullptr) {
    d.denial = Denial::kUnknownToken;
  } else if (d.who->scope < d.needed) {
    d.denial = Denial::kScope;
  }
  return d;
}

namespace {

std::string_view ScopeReason(Scope have, Scope needed) {
  if (needed == Scope::kAdmin) {
    return have == Scope::kWrite
               ? "forbidden: this token has the write scope; this request needs admin\n"
               : "forbidden: this token has the read scope; this request needs admin\n";
  }
  return "forbidden: this token has the read scope; this request needs write\n";
}

}  // namespace

Reply DenialReply(const AccessDecision& d, Route route) {
  Reply r;
  r.route = route;
  r.content_type = kTextPlain;
  switch (d.denial) {
    case Denial::kScope:
      r.status = 403;
      r.body = ScopeReason(d.who->scope, d.needed);
      return r;
    case Denial::kMissingToken:
      r.body = "unauthorized: this request needs Authorization: Bearer TOKEN\n";
      break;
    case Denial::kMalformedHeader:
      r.body = "unauthorized: malformed Authorization header (expected one: Bearer TOKEN)\n";
      break;
    case Denial::kUnknownToken:
      r.body = "unauthorized: unknown bearer token\n";
      break;
    case Denial::kNone:
      break;
  }
  r.status = 401;
  r.www_authenticate = kBearerChallenge;
  return r;
}

}  // namespace httpkv::server
