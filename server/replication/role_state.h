// RoleState: what this member is right now — standalone, primary (until its lease deadline),
// replica of a named primary, or neither (electing) — published by the election thread and
// read by every reactor thread without a lock on the hot path (atomics; the primary's
// address, read only on refusals and status pages, under a leaf mutex).
//
// The fence: a primary takes and acknowledges writes only while now < lease deadline, a time
// on this process's monotonic clock that etcd's lease cannot outlive (the deadline is the
// moment the last successful renewal was *sent* plus the TTL). Past it the member refuses
// writes by itself, before etcd can let anyone else be elected.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace httpkv::server::replication {

enum class Role : uint8_t { kStandalone, kPrimary, kReplica, kElecting };
const char* RoleName(Role role);

class RoleState {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RoleState(Role initial) : role_(initial) {}

  Role role() const { return role_.load(std::memory_order_acquire); }
  // Writes may be applied and acknowledged now.
  bool AcceptsWrites(Clock::time_point now = Clock::now()) const {
    const Role r = role();
    return r == Role::kStandalone || (r == Role::kPrimary && now < LeaseDeadline());
  }
  Clock::time_point LeaseDeadline() const {
    return Clock::time_point(Clock::duration(deadline_.load(std::memory_order_acquire)));
  }
  uint64_t term() const { return term_.load(std::memory_order_acquire); }
  // A replica that is receiving its primary's stream.
  bool streaming() const { return streaming_.load(std::memory_order_acquire); }
  // The primary's advertised address ("" when none is known; ours while primary).
  std::string primary() const;

  // Election thread.
  void BecomePrimary(uint64_t term, Clock::time_point deadline, const std::string& self);
  void ExtendLease(Clock::time_point deadline);
  void BecomeReplica(const std::string& primary);
  void BecomeElecting();
  void SetStreaming(bool on) { streaming_.store(on, std::memory_order_release); }

 private:
  std::atomic<Role> role_;
  std::atomic<Clock::rep> deadline_{0};
  std::atomic<uint64_t> term_{0};
  std::atomic<bool> streaming_{false};
  mutable std::mutex mu_;
  std::string primary_;  // guarded by mu_
};

}  // namespace httpkv::server::replication
