// LogStore durability: log syncs, the everysec tick and group commit, all served by one
// syncer thread. Every fdatasync is counted and timed by the store's MeteredFileSystem.
#include <algorithm>
#include <chrono>

#include "storage/log_store.h"

namespace httpkv::storage {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

void LogStore::AdvanceDurable(uint64_t target, uint64_t seq) {
  // The seq first: whoever sees the token durable may look for the feed's bound.
  uint64_t cur_seq = durable_seq_.load(std::memory_order_relaxed);
  while (cur_seq < seq &&
         !durable_seq_.compare_exchange_weak(cur_seq, seq, std::memory_order_acq_rel)) {
  }
  uint64_t cur = durable_token_.load(std::memory_order_relaxed);
  while (cur < target &&
         !durable_token_.compare_exchange_weak(cur, target, std::memory_order_acq_rel)) {
  }
}

// target: the token of the last append to seg before this sync started; appends: appends_
// at that moment.
Status LogStore::SyncLockedSegment(const Segment& seg, uint64_t target, uint64_t appends,
                                   uint64_t seq) {
  if (Status s = seg.file->Sync(); !s.ok()) return s;
  AdvanceDurable(target, seq);
  uint64_t prev = synced_appends_.load(std::memory_order_relaxed);
  while (prev < appends && !synced_appends_.compare_exchange_weak(prev, appends)) {
  }
  writes_per_fsync_.Record(appends > prev ? appends - prev : 0);
  return Status::OK();
}

// Sealed segments were synced when sealed, so syncing the active one covers every append up
// to the token captured together with it.
Status LogStore::SyncActive() {
  std::shared_ptr<Segment> seg;
  uint64_t target, appends, seq;
  {
    MutexLock lock(&write_mu_);
    seg = active_;
    target = log_pos_.load(std::memory_order_relaxed);
    appends = appends_.load(std::memory_order_relaxed);
    seq = last_seq_.load(std::memory_order_relaxed);
  }
  return SyncLockedSegment(*seg, target, appends, seq);
}

Status LogStore::Sync() {
  unsynced_.store(false, std::memory_order_relaxed);
  Status s = SyncActive();
  if (!s.ok()) unsynced_.store(true, std::memory_order_relaxed);
  return s;
}

void LogStore::SyncAsync(uint64_t token, SyncDone done, void* ctx) {
  if (token <= durable_token()) return done(ctx, Status::OK());
  if (token > log_pos_.load(std::memory_order_acquire)) {
    return done(ctx, Status::InvalidArgument("sync token from the future"));
  }
  {
    MutexLock lock(&sync_mu_);
    waiters_.push_back(SyncWaiter{token, done, ctx});
    CountRequest();
  }
  sync_cv_.Signal();
}

// One group: a single fdatasync covers every append made before it started; the waiters it
// covers are completed outside the lock. Waiters that arrived meanwhile with a later token
// wait for the next group, which SyncerLoop starts as soon as this one returns. Both vectors
// keep their capacity, so a steady state allocates nothing.
void LogStore::RunSyncGroup() {
  sync_busy_ = true;
  sync_mu_.Unlock();
  unsynced_.store(false, std::memory_order_relaxed);
  std::shared_ptr<Segment> seg;
  uint64_t target, appends, seq;
  {
    MutexLock wlock(&write_mu_);
    seg = active_;
    target = log_pos_.load(std::memory_order_relaxed);
    appends = appends_.load(std::memory_order_relaxed);
    seq = last_seq_.load(std::memory_order_relaxed);
  }
  Status s = SyncLockedSegment(*seg, target, appends, seq);
  if (!s.ok()) unsynced_.store(true, std::memory_order_relaxed);
  sync_mu_.Lock();
  ready_.clear();
  size_t kept = 0;
  for (const SyncWaiter& w : waiters_) {  // stable: later tokens keep their order
    if (w.token > target) {
      waiters_[kept++] = w;
    } else {
      ready_.push_back(w);
    }
  }
  waiters_.resize(kept);
  sync_mu_.Unlock();
  for (const SyncWaiter& w : ready_) w.done(w.ctx, s);
  sync_mu_.Lock();
  sync_busy_ = false;
  sync_idle_cv_.SignalAll();
}

// Group commit has priority; otherwise the everysec tick (Redis: at most ~1 s of
// acknowledged writes is exposed to a power failure).
void LogStore::SyncerLoop() {
  const bool everysec = opts_.fsync == FsyncPolicy::kEverySec;
  auto next_tick = Clock::now() + std::chrono::seconds(1);
  MutexLock lock(&sync_mu_);
  while (true) {
    if (!waiters_.empty()) {
      RunSyncGroup();
      continue;
    }
    if (stop_) break;
    if (everysec && Clock::now() >= next_tick) {
      next_tick = Clock::now() + std::chrono::seconds(1);
      if (!unsynced_.exchange(false, std::memory_order_acq_rel)) continue;
      sync_busy_ = true;
      lock.Unlock();  // never hold sync_mu_ across the disk flush
      if (!SyncActive().ok()) unsynced_.store(true, std::memory_order_relaxed);  // next tick
      lock.Lock();
      sync_busy_ = false;
      sync_idle_cv_.SignalAll();
      continue;
    }
    // Woken by a waiter, stop_ or the tick (or spuriously): the loop looks again.
    if (everysec) {
      sync_cv_.WaitUntil(&sync_mu_, next_tick);
    } else {
      sync_cv_.Wait(&sync_mu_);
    }
  }
}

void LogStore::StopSyncer() {
  if (!syncer_.joinable()) return;
  {
    MutexLock lock(&sync_mu_);
    stop_ = true;
  }
  sync_cv_.SignalAll();
  syncer_.join();
}

}  // namespace httpkv::storage
