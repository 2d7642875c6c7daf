// KvRoutes' replication routes (SPEC "Replication and failover"): the role checks HAProxy
// routes by (/primary, /replica), the status page (/admin/replication), the request side of
// log shipping (POST /replication/log; the worker answers it, it may wait for records), and
// the refusal of a write on a member that is not the primary.
#include <fmt/format.h>

#include <iterator>

#include "server/routes/kv_routes.h"

namespace httpkv::server {

using replication::Role;

bool KvRoutes::RefusesWrites() const {
  return repl_ != nullptr && !repl_->role().AcceptsWrites();
}

Reply KvRoutes::NotPrimary() {
  primary_ = repl_->role().primary();
  scratch_.body.clear();
  const Role role = repl_->role().role();
  if (role == Role::kReplica && !primary_.empty()) {
    fmt::format_to(std::back_inserter(scratch_.body),
                   "this member is a replica of shard {}: send writes to the primary at {}\n",
                   repl_->options().shard, primary_);
    Reply r = Text(421, scratch_.body);
    r.x_primary = primary_;
    return r;
  }
  fmt::format_to(std::back_inserter(scratch_.body),
                 "shard {} has no primary here right now ({}): not written; retry\n",
                 repl_->options().shard,
                 role == Role::kPrimary ? "its lease ran out" : "an election is in progress");
  Reply r = Text(503, scratch_.body);
  r.retry_after = 1;
  return r;
}

Reply KvRoutes::Replication(const http::Request& req, Route route) {
  switch (route) {
    case Route::kPrimary: {
      // Decided on this thread's clock: a primary past its lease deadline is no primary,
      // whether or not its election thread has noticed (e.g. just after SIGCONT).
      if (repl_ == nullptr) return Text(200, "standalone\n");
      const bool primary = repl_->role().role() == Role::kPrimary && repl_->role().AcceptsWrites();
      return primary ? Text(200, "primary\n") : Text(503, "not primary\n");
    }
    case Route::kReplica: {
      const bool replica =
          repl_ != nullptr && repl_->role().role() == Role::kReplica && repl_->role().streaming();
      return replica ? Text(200, "replica\n") : Text(503, "not a streaming replica\n");
    }
    case Route::kAdminReplication: {
      if (repl_ == nullptr) {
        scratch_.body = "{\"role\":\"standalone\"}\n";
      } else {
        scratch_.body = repl_->StatusJson();
      }
      Reply r;
      r.content_type = "application/json";
      r.body = scratch_.body;
      return r;
    }
    case Route::kReplicationLog: {
      if (repl_ == nullptr) return Text(404, "this server is not a member of a replicated shard\n");
      if (std::string_view err = replication::ParseFetchQuery(req.query, &fetch_); !err.empty()) {
        scratch_.body.assign(err);
        scratch_.body += '\n';
        return Text(400, scratch_.body);
      }
      if (repl_->role().role() != Role::kPrimary) return NotPrimary();
      Reply r;
      r.replication_fetch = true;
      return r;
    }
    default:
      break;
  }
  return Text(404, "not found\n");
}

}  // namespace httpkv::server
