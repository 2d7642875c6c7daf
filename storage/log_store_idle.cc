// LogStore::TEST_WaitIdle: waits, on each background thread's own mutex and an "idle"
// condition variable it notifies when it finishes a unit of work, until none of them has
// anything to do.
//
// One pass checks the threads one after another, so work one of them hands to another
// (a rollover by the expiry thread asks the maintenance thread for a hint) could slip
// between the checks. Every request is counted (CountRequest, under the mutex of the
// thread it goes to): a thread that was idle when checked stays idle until a request comes,
// and a request made by work that finished before its thread's check is visible after
// that check (its mutex orders them). So a pass during which the count did not change saw
// every thread idle at once; otherwise another pass runs.
#include "storage/log_store.h"

namespace httpkv::storage {

bool LogStore::MaintIdle() const {
  return maint_stop_ ||
         !(maint_busy_ || compact_requested_ || hints_wanted_ || spare_wanted_ || reclaim_wanted_);
}

bool LogStore::SyncerIdle() const {
  return !sync_busy_ && waiters_.empty();
}

bool LogStore::ExpiryIdle() const {
  if (expiry_stop_) return true;
  return !expiry_busy_ && (expiry_heap_.empty() || expiry_heap_.front().at_ms > NowMs());
}

void LogStore::TEST_WaitIdle() {
  while (true) {
    const uint64_t requests = bg_requests_.load(std::memory_order_acquire);
    {
      MutexLock lock(&maint_mu_);
      while (!MaintIdle()) maint_idle_cv_.Wait(&maint_mu_);
    }
    {
      MutexLock lock(&sync_mu_);
      while (!SyncerIdle()) sync_idle_cv_.Wait(&sync_mu_);
    }
    {
      MutexLock lock(&expiry_mu_);
      while (!ExpiryIdle()) expiry_idle_cv_.Wait(&expiry_mu_);
    }
    if (bg_requests_.load(std::memory_order_acquire) == requests) return;
  }
}

}  // namespace httpkv::storage
