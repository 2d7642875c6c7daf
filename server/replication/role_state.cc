#include "server/replication/role_state.h"

namespace httpkv::server::replication {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kStandalone:
      return "standalone";
    case Role::kPrimary:
      return "primary";
    case Role::kReplica:
      return "replica";
    case Role::kElecting:
      return "electing";
  }
  return "unknown";
}

std::string RoleState::primary() const {
  std::lock_guard lock(mu_);
  return primary_;
}

void RoleState::BecomePrimary(uint64_t term, Clock::time_point deadline, const std::string& self) {
  {
    std::lock_guard lock(mu_);
    primary_ = self;
  }
  term_.store(term, std::memory_order_release);
  streaming_.store(false, std::memory_order_release);
  deadline_.store(deadline.time_since_epoch().count(), std::memory_order_release);
  role_.store(Role::kPrimary, std::memory_order_release);
}

void RoleState::ExtendLease(Clock::time_point deadline) {
  deadline_.store(deadline.time_since_epoch().count(), std::memory_order_release);
}

void RoleState::BecomeReplica(const std::string& primary) {
  {
    std::lock_guard lock(mu_);
    if (primary_ != primary) streaming_.store(false, std::memory_order_release);
    primary_ = primary;
  }
  deadline_.store(0, std::memory_order_release);
  role_.store(Role::kReplica, std::memory_order_release);
}

void RoleState::BecomeElecting() {
  role_.store(Role::kElecting, std::memory_order_release);
  deadline_.store(0, std::memory_order_release);
  streaming_.store(false, std::memory_order_release);
  std::lock_guard lock(mu_);
  primary_.clear();
}

}  // namespace httpkv::server::replication
