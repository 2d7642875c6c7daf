// FeedBus: tells the reactor threads that hold change-feed watchers that the feed moved.
//
// Each HttpWorker is a Member. A worker that wrote (or, under --fsync always, saw its writes
// become durable) calls Notify() once per read batch: with no watchers anywhere that is one
// load; otherwise each member with watchers gets at most one pending wake-up (a Post to its
// loop), however many writes happen before it runs. The woken worker reads the new records
// from the log itself (storage::LogStore::ReadChanges): nothing is copied per watcher.
//
// Ordering: a writer publishes its SEQ and then Notify()s; a worker adding a watcher counts
// it (Watching) and then reads FeedSeq; both sides go through a seq_cst fence, so either the
// writer sees the watcher or the watcher sees the write. A woken worker clears wake_pending
// (seq_cst exchange) before it reads FeedSeq, so a write after that wakes it again.
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
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (watchers_.load(std::memory_order_relaxed) == 0) return;
    for (Member* m : members_) {
      if (m->watchers.load(std::memory_order_relaxed) == 0) continue;
      if (m->wake_pending.exchange(true)) continue;  // one wake-up is already on its way
      m->wake(m->ctx);
    }
  }

  // A member's watcher count changes by delta (+1 / -1), on the member's thread.
  void Watching(Member* m, int delta) {
    m->watchers.fetch_add(static_cast<uint32_t>(delta));
    watchers_.fetch_add(static_cast<uint32_t>(delta));
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  uint32_t watchers() const { return watchers_.load(std::memory_order_relaxed); }

 private:
  std::vector<Member*> members_;
  std::atomic<uint32_t> watchers_{0};
};

}  // namespace httpkv::server
