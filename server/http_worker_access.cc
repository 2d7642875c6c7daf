// HttpWorker: who may be served (SPEC "Security"). Protected mode refuses non-loopback
// peers (decided at accept, server/auth/peer_policy.h); with --auth-file each request's route and
// method need a token with the scope (server/auth/access_check.h). The token set is this thread's
// own reference: a reload posts the new set to the loop, so no request ever reads memory
// another reactor thread writes, and lookups take no lock and allocate nothing.
#include "server/auth/access_check.h"
#include "server/auth/peer_policy.h"
#include "server/http_worker.h"

namespace httpkv::server {

void HttpWorker::PostTokens(std::shared_ptr<const TokenSet> tokens, std::function<void()> applied) {
  loop_.Post([this, tokens = std::move(tokens), applied = std::move(applied)]() mutable {
    tokens_ = std::move(tokens);  // the old set is freed here, on this thread, if last
    applied();
  });
}

bool HttpWorker::Denied(const HttpSession& s, Reply* reply, std::string_view* user) const {
  loop_.AssertInLoopThread();
  if (s.refused_peer) {
    reply->status = 403;
    reply->route = MatchRoute(request_.path).route;
    reply->content_type = kTextPlain;
    reply->body = kProtectedModeBody;
    return true;
  }
  if (!auth_on_) return false;
  const Route route = MatchRoute(request_.path).route;
  const AccessDecision d = CheckAccess(tokens_.get(), request_, route);
  if (d.who != nullptr) *user = d.who->name;
  if (d.allowed()) return false;
  *reply = DenialReply(d, route);
  return true;
}

}  // namespace httpkv::server
