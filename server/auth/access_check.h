// Access check for --auth-file (SPEC "Security"), made AFTER routing: the router
// (server/base/route_table.h) resolves the request to the route it will actually dispatch, that
// route and the method decide the scope needed, and only then is the token looked at. Scope is
// therefore never decided on a path string that a handler might read differently:
// "/admin%2Fcompact", "//admin/compact" or "/ADMIN/compact" are no admin route (the
// router matches exactly, without decoding), and "/kv/../admin/compact" is the key
// "../admin/compact" of the /kv/ resource.
//
// Decisions where RFC 6750 leaves room:
//   * every 401 carries exactly `WWW-Authenticate: Bearer realm="httpkv"`;
//   * a malformed Authorization header (other scheme, no token, two headers, a token
//     that is not token68) gets 401 too, not 400: to a client it is "no valid token";
//   * an unknown route needs a read token, so without one it is 401, not 404: routes do
//     not show to clients without a token;
//   * GET/HEAD/OPTIONS (and unimplemented methods, answered 501) need read, PUT/POST/
//     DELETE need write, /admin/* needs admin whatever the method; /healthz and /readyz
//     are open whatever the method; a request with X-Key-Move (the key mover's) needs admin.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request.h"
#include "server/auth/token_set.h"
#include "server/base/route_table.h"
#include "server/routes/reply.h"

namespace httpkv::server {

Scope RequiredScope(Route route, http::Method method);

enum class Denial : uint8_t { kNone, kMissingToken, kMalformedHeader, kUnknownToken, kScope };

struct AccessDecision {
  Denial denial = Denial::kNone;
  Scope needed = Scope::kOpen;
  const TokenSet::Entry* who = nullptr;  // the matching token (nullptr if none)
  bool allowed() const { return denial == Denial::kNone; }
};

// The token of `Authorization: Bearer TOKEN` (scheme case-insensitive); empty view if the
// header is not of that form.
std::string_view BearerToken(std::string_view authorization);

// tokens == nullptr: no token is known (every protected route is denied).
AccessDecision CheckAccess(const TokenSet* tokens, const http::Request& req, Route route);

// The 401/403 answer (static text, no allocation) for a denied decision.
Reply DenialReply(const AccessDecision& d, Route route);

inline constexpr std::string_view kBearerChallenge = "Bearer realm=\"httpkv\"";

}  // namespace httpkv::server
