// LogStore durability: fdatasync accounting, the everysec tick and group commit, all served
// by one syncer thread.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "storage/log_store.h"

namespace httpkv::storage {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

int LogStore::DoFdatasync(int fd) {
  const auto start = Clock::now();
  const int rc = opts_.fdatasync_for_test ? opts_.fdatasync_for_test(fd) : fdatasync(fd);
  const int err = errno;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  fsync_ns_.fetch_add(static_cast<uint64_t>(ns.count()), std::memory_order_relaxed);
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  if (rc != 0) fsync_errors_.fetch_add(1, std::memory_order_relaxed);
  errno = err;
  return rc;
}

void LogStore::AdvanceDurable(uint64_t target) {
  uint64_t cur = durable_token_.load(std::memory_order_relaxed);
  while (cur < target &&
         !durable_token_.compare_exchange_weak(cur, target, std::memory_order_acq_rel)) {
  }
}

// target: the token of the last append to seg before this sync started.
Status LogStore::SyncLockedSegment(const Segment& seg, uint64_t target) {
  if (DoFdatasync(seg.fd) != 0) return ErrnoStatus("fdatasync " + seg.name, errno);
  AdvanceDurable(target);
  return Status::OK();
}

// Sealed segments were synced when sealed, so syncing the active one covers every append up
// to the token captured together with it.
Status LogStore::SyncActive() {
  std::shared_ptr<Segment> seg;
  uint64_t target;
  {
    std::lock_guard lock(write_mu_);
    seg = active_;
    target = log_pos_.load(std::memory_order_relaxed);
  }
  return SyncLockedSegment(*seg, target);
}

Status LogStore::Sync() {
  unsynced_.store(false, std::memory_order_relaxed);
  Status s = SyncActive();
  if (!s.ok()) unsynced_.store(true, std::memory_order_relaxed);
  return s;
}

void LogStore::SyncAsync(uint64_t token, std::function<void(Status)> done) {
  if (token <= durable_token()) return done(Status::OK());
  if (token > log_pos_.load(std::memory_order_acquire)) {
    return done(Status::InvalidArgument("sync token from the future"));
  }
  {
    std::lock_guard lock(sync_mu_);
    waiters_.push_back(SyncWaiter{token, std::move(done)});
  }
  sync_cv_.notify_one();
}

// One group: a single fdatasync covers every append made before it started; the waiters it
// covers are completed outside the lock. Waiters that arrived meanwhile wait for the next.
void LogStore::RunSyncGroup(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  unsynced_.store(false, std::memory_order_relaxed);
  std::shared_ptr<Segment> seg;
  uint64_t target;
  {
    std::lock_guard wlock(write_mu_);
    seg = active_;
    target = log_pos_.load(std::memory_order_relaxed);
  }
  Status s = SyncLockedSegment(*seg, target);
  if (!s.ok()) unsynced_.store(true, std::memory_order_relaxed);
  lock.lock();
  std::vector<SyncWaiter> ready;
  auto keep = std::stable_partition(waiters_.begin(), waiters_.end(),
                                    [&](const SyncWaiter& w) { return w.token > target; });
  std::move(keep, waiters_.end(), std::back_inserter(ready));
  waiters_.erase(keep, waiters_.end());
  lock.unlock();
  for (SyncWaiter& w : ready) w.done(s);
  lock.lock();
}

// Group commit has priority; otherwise the everysec tick (Redis: at most ~1 s of
// acknowledged writes is exposed to a power failure).
void LogStore::SyncerLoop() {
  const bool everysec = opts_.fsync == FsyncPolicy::kEverySec;
  auto next_tick = Clock::now() + std::chrono::seconds(1);
  std::unique_lock lock(sync_mu_);
  while (true) {
    if (!waiters_.empty()) {
      RunSyncGroup(lock);
      continue;
    }
    if (stop_) break;
    if (everysec && Clock::now() >= next_tick) {
      next_tick = Clock::now() + std::chrono::seconds(1);
      if (!unsynced_.exchange(false, std::memory_order_acq_rel)) continue;
      lock.unlock();  // never hold sync_mu_ across the disk flush
      if (!SyncActive().ok()) unsynced_.store(true, std::memory_order_relaxed);  // next tick
      lock.lock();
      continue;
    }
    auto wake = [this] { return stop_ || !waiters_.empty(); };
    if (everysec) {
      sync_cv_.wait_until(lock, next_tick, wake);
    } else {
      sync_cv_.wait(lock, wake);
    }
  }
}

void LogStore::StopSyncer() {
  if (!syncer_.joinable()) return;
  {
    std::lock_guard lock(sync_mu_);
    stop_ = true;
  }
  sync_cv_.notify_all();
  syncer_.join();
}

}  // namespace httpkv::storage
