// FeedBus: tells the reactor threads that hold change-feed watchers that the feed moved.
//
// Each HttpWorker's FeedWatchers is a Member. A worker that wrote (or, under --fsync always, saw
// its writes become durable) calls Notify() once per read batch: with no watchers anywhere that is
// one atomic RMW; otherwise each member with watchers gets at most one pending wake-up (a Post to
// its loop), however many writes happen before it runs. The woken worker reads the new records from
// the log itself (storage::LogStore::ReadChanges): nothing is copied per watcher.
//
// Ordering: a writer publishes its SEQ and then Notify()s; a worker adding a watcher counts
// it (Watching) and then reads FeedSeq. Both sides do an acq_rel read-modify-write of the
// same counter (Notify adds 0), and RMWs read the latest value in its modification order:
// either the writer's RMW sees the new watcher, or the watcher's RMW reads from the writer's
// and so sees the SEQ stored before it. (No fences: TSan does not model them.) A woken worker
// clears wake_pending with an exchange before it reads FeedSeq, so a write after that wakes
// it again, by the same argument. The price with no watchers: one RMW of a cache line shared by
// the reactor threads per read batch that wrote (not per request; no lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace httpkv::server {

class FeedBus {
 public:
  struct Member {
    std::atomic<uint32_t> watchers{0};
    std::atomic<bool> wake_pending{false};
    void (*wake)(void* ctx) = nullptr;  // posts to the member's loop; any thread
    void* ctx = nullptr;
  };

  // Before any member's thread runs.
  void Add(Member* m) { members_.push_back(m); }

  void Notify() {
    // An RMW, not a load: it reads the latest count in the modification order (see above).
    if (watchers_.fetch_add(0, std::memory_order_acq_rel) == 0) return;
    for (Member* m : members_) {
      if (m->watchers.load(std::memory_order_relaxed) == 0) continue;
      if (m->wake_pending.exchange(true, std::memory_order_acq_rel)) continue;  // one on its way
      m->wake(m->ctx);
    }
  }

  // A member's watcher count changes by delta (+1 / -1), on the member's thread.
  void Watching(Member* m, int delta) {
    m->watchers.fetch_add(static_cast<uint32_t>(delta), std::memory_order_relaxed);
    watchers_.fetch_add(static_cast<uint32_t>(delta), std::memory_order_acq_rel);
  }

  uint32_t watchers() const { return watchers_.load(std::memory_order_relaxed); }

 private:
  std::vector<Member*> members_;
  std::atomic<uint32_t> watchers_{0};
};

}  // namespace httpkv::server
