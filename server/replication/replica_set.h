// ReplicaSet: a primary's view of its replicas — how far each one has acknowledged the log
// (every fetch says "I hold everything up to SEQ"), which of them are the synchronous
// standbys named in etcd, and the commit SEQ: the newest record all named standbys hold.
// With --sync K a write is acknowledged only once commit_seq() reaches it (WAIT /
// synchronous_commit semantics); one acknowledgement covers every write before it.
//
// Naming (Patroni's synchronous_standby_names): only a standby named in etcd may take over
// when K >= 1, so a standby is named only once it holds everything acknowledged so far, and
// while the named set changes the commit counts the old and the new sets together: whoever
// etcd names at any moment holds every acknowledged write.
//
// Thread safety: Ack runs on reactor threads (a replica's fetch), naming on the election
// thread, commit_seq() anywhere (an atomic). One leaf mutex; the listener runs without it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/log_store.h"

namespace httpkv::server::replication {

struct ReplicaPosition {
  std::string node;
  storage::FeedCursor cursor;  // where its last shipment ended in this primary's log
  std::string addr;
  uint64_t acked_seq = 0;
  std::chrono::steady_clock::time_point last_seen;
  bool named = false;  // a synchronous standby named in etcd
  // The primary's log position (bytes appended) when this replica last held everything:
  // its lag in bytes is what was appended since.
  uint64_t held_position = 0;
};

class ReplicaSet {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ReplicaSet(unsigned sync) : sync_(sync) {}

  unsigned sync() const { return sync_; }
  // The newest seq every named standby holds; UINT64_MAX when --sync is 0 (nothing to wait
  // for). Only grows within a term.
  uint64_t commit_seq() const { return commit_.load(std::memory_order_acquire); }
  // Called with ctx after commit_seq() advanced (on the thread that advanced it; post).
  void SetListener(void (*fn)(void*), void* ctx);

  // A new term starts at seq `floor` (its marker): positions are forgotten; `named` is
  // what etcd names now. A standby is named only once it holds everything up to `floor`
  // (everything acknowledged in earlier terms is there).
  void Reset(const std::vector<std::string>& named, uint64_t floor);
  // A fetch from `node` (reachable at addr): it holds every record with seq <= acked.
  // *cursor: where its previous shipment ended (to read the next from).
  // held_position: the primary's log position if `acked` is its last seq (it holds
  // everything), else 0 (unchanged).
  void Ack(std::string_view node, std::string_view addr, uint64_t acked, Clock::time_point now,
           storage::FeedCursor* cursor, uint64_t held_position = 0);
  // After a shipment: where it ended.
  void SaveCursor(std::string_view node, const storage::FeedCursor& cursor);

  // Election thread. The standbys etcd should name: the named ones seen within `fresh`,
  // then members holding everything committed, most advanced first, up to K; named ones
  // that went quiet stay named while nobody can replace them (they may hold writes the
  // others lack).
  std::vector<std::string> WantedStandbys(Clock::time_point now, Clock::duration fresh) const;
  // Before writing `next` to etcd: commit counts old and next; then FinishNaming with the
  // outcome (false: etcd was not updated, the old set stays).
  void BeginNaming(const std::vector<std::string>& next);
  void FinishNaming(bool written);
  std::vector<std::string> named() const;
  std::vector<ReplicaPosition> Snapshot() const;

 private:
  // Caller holds mu_. Returns true when commit_ advanced.
  bool RecomputeLocked();
  const ReplicaPosition* FindLocked(std::string_view node) const;

  const unsigned sync_;
  std::atomic<uint64_t> commit_{UINT64_MAX};
  mutable std::mutex mu_;
  std::vector<ReplicaPosition> members_;  // guarded by mu_
  std::vector<std::string> named_;        // guarded by mu_
  std::vector<std::string> pending_;      // guarded by mu_: named while etcd is written
  uint64_t floor_ = 0;                    // guarded by mu_
  void (*listener_)(void*) = nullptr;     // guarded by mu_
  void* listener_ctx_ = nullptr;          // guarded by mu_
};

}  // namespace httpkv::server::replication
