// Epoch: read-side critical sections that share no lock word, for the GET path.
//
// A reader brackets its use of shared, rarely replaced objects (the segment table, an index
// table) with an Epoch::ReadGuard. Entering stores the current global epoch into the
// reader's own cache line (one slot per thread, never shared); leaving clears it. A writer
// that has unpublished an object (swapped the atomic pointer readers load) calls
// Epoch::Synchronize(), which returns once every reader that could still see the old object
// has left its critical section; then the object can be freed (RCU's synchronize_rcu).
//
// Rules: read sections are short and never block (no I/O, no locks, no waiting) — a writer
// spins on them. Guards nest. Pointers that readers follow must be loaded and stored with
// std::memory_order_seq_cst (or be immutable once published), so a reader that entered after
// the writer's epoch bump is guaranteed to see the new pointer. Synchronize() must not be
// called from inside a read section.
//
// One process-wide domain: slots are per thread, handed out on first use and returned when
// the thread exits. At most kMaxThreads threads may be inside the domain at once (panic
// beyond that).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace httpkv::storage {

class Epoch {
 public:
  static constexpr size_t kMaxThreads = 1024;

  class ReadGuard {
   public:
    ReadGuard() { Enter(); }
    ~ReadGuard() { Exit(); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;
  };

  // Waits until every read section that began before this call has ended.
  static void Synchronize();

  // Synchronize() in two halves, for a writer that must not wait: an object unpublished
  // before StartGracePeriod() may be freed once GracePeriodOver(its token) returns true.
  // Neither blocks. (Polled from inside a read section, it stays false for that section.)
  static uint64_t StartGracePeriod();
  static bool GracePeriodOver(uint64_t token);

  // For tests: true while the calling thread is inside a read section.
  static bool InReadSection();

 private:
  static void Enter();
  static void Exit();
};

}  // namespace httpkv::storage
