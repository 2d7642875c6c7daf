#include "server/replication/replica_set.h"

#include <algorithm>

namespace httpkv::server::replication {

void ReplicaSet::SetListener(void (*fn)(void*), void* ctx) {
  std::lock_guard lock(mu_);
  listener_ = fn;
  listener_ctx_ = ctx;
}

void ReplicaSet::Reset(const std::vector<std::string>& named, uint64_t floor) {
  std::lock_guard lock(mu_);
  members_.clear();
  floor_ = floor;
  named_ = named;
  pending_.clear();
  commit_.store(sync_ == 0 ? UINT64_MAX : 0, std::memory_order_release);
}

const ReplicaPosition* ReplicaSet::FindLocked(std::string_view node) const {
  for (const ReplicaPosition& m : members_) {
    if (m.node == node) return &m;
  }
  return nullptr;
}

void ReplicaSet::Ack(std::string_view node, std::string_view addr, uint64_t acked,
                     Clock::time_point now, storage::FeedCursor* cursor, uint64_t held_position) {
  void (*fn)(void*) = nullptr;
  void* ctx = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(members_.begin(), members_.end(),
                           [&](const ReplicaPosition& m) { return m.node == node; });
    if (it == members_.end()) {
      members_.push_back(ReplicaPosition{std::string(node), {}, std::string(addr), acked, now});
      it = members_.end() - 1;
    } else {
      it->addr.assign(addr);
      it->acked_seq = acked;
      it->last_seen = now;
    }
    if (held_position != 0) it->held_position = held_position;
    *cursor = it->cursor;
    if (RecomputeLocked()) {
      fn = listener_;
      ctx = listener_ctx_;
    }
  }
  if (fn != nullptr) fn(ctx);
}

bool ReplicaSet::RecomputeLocked() {
  if (sync_ == 0) return false;
  uint64_t commit = UINT64_MAX;
  size_t counted = 0;
  auto count = [&](const std::string& name) {
    const ReplicaPosition* m = FindLocked(name);
    commit = std::min(commit, m == nullptr ? 0 : m->acked_seq);
    ++counted;
  };
  for (const std::string& n : named_) count(n);
  for (const std::string& n : pending_) {
    if (std::find(named_.begin(), named_.end(), n) == named_.end()) count(n);
  }
  if (counted < sync_ || named_.size() < sync_) commit = 0;  // not enough standbys named
  const uint64_t before = commit_.load(std::memory_order_relaxed);
  if (commit == UINT64_MAX || commit <= before) return false;
  commit_.store(commit, std::memory_order_release);
  return true;
}

std::vector<std::string> ReplicaSet::WantedStandbys(Clock::time_point now,
                                                    Clock::duration fresh) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> want;
  if (sync_ == 0) return want;
  auto is_fresh = [&](const ReplicaPosition* m) {
    return m != nullptr && now - m->last_seen <= fresh;
  };
  for (const std::string& n : named_) {
    if (want.size() < sync_ && is_fresh(FindLocked(n))) want.push_back(n);
  }
  const uint64_t commit = commit_.load(std::memory_order_relaxed);
  std::vector<const ReplicaPosition*> candidates;
  for (const ReplicaPosition& m : members_) {
    const bool taken = std::find(want.begin(), want.end(), m.node) != want.end();
    const bool holds_all = m.acked_seq >= floor_ && (commit == 0 || m.acked_seq >= commit);
    if (!taken && is_fresh(&m) && holds_all) candidates.push_back(&m);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const ReplicaPosition* a, const ReplicaPosition* b) {
              return a->acked_seq != b->acked_seq ? a->acked_seq > b->acked_seq : a->node < b->node;
            });
  for (const ReplicaPosition* m : candidates) {
    if (want.size() < sync_) want.push_back(m->node);
  }
  for (const std::string& n : named_) {  // quiet ones nobody can replace stay named
    if (want.size() < sync_ && std::find(want.begin(), want.end(), n) == want.end()) {
      want.push_back(n);
    }
  }
  std::sort(want.begin(), want.end());
  return want;
}

void ReplicaSet::BeginNaming(const std::vector<std::string>& next) {
  std::lock_guard lock(mu_);
  pending_ = next;
}

void ReplicaSet::FinishNaming(bool written) {
  void (*fn)(void*) = nullptr;
  void* ctx = nullptr;
  {
    std::lock_guard lock(mu_);
    if (written) named_ = pending_;
    pending_.clear();
    if (RecomputeLocked()) {
      fn = listener_;
      ctx = listener_ctx_;
    }
  }
  if (fn != nullptr) fn(ctx);
}

void ReplicaSet::SaveCursor(std::string_view node, const storage::FeedCursor& cursor) {
  std::lock_guard lock(mu_);
  for (ReplicaPosition& m : members_) {
    if (m.node == node) m.cursor = cursor;
  }
}

std::vector<std::string> ReplicaSet::named() const {
  std::lock_guard lock(mu_);
  return named_;
}

std::vector<ReplicaPosition> ReplicaSet::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<ReplicaPosition> out = members_;
  for (ReplicaPosition& m : out) {
    m.named = std::find(named_.begin(), named_.end(), m.node) != named_.end();
  }
  return out;
}

}  // namespace httpkv::server::replication
