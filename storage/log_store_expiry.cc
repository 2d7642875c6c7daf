// LogStore expiry (FORMAT.md "Expiry"): values written with an absolute expiry read as
// absent from that moment, and an expiry thread writes an expire tombstone for each of them
// right when it is due, so the change feed shows an `expire` event at the moment of expiry,
// a restart sees the key gone, and compaction drops both records like any other dead ones.
//
// Costs nothing for keys without a TTL: the index entry's `expires` bit is false and no
// clock is read. Only expiring puts take expiry_mu_ (a leaf lock) to queue themselves.
#include <algorithm>
#include <chrono>
#include <functional>

#include "storage/log_store.h"

namespace httpkv::storage {

uint64_t LogStore::NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void LogStore::SetChangeListener(void (*fn)(void*), void* ctx) {
  MutexLock lock(&listener_mu_);
  change_fn_ = fn;
  change_ctx_ = ctx;
}

// Under listener_mu_, so that once SetChangeListener(nullptr) returned it is never called;
// no other lock is held, so the listener may call into the store (except SetChangeListener).
void LogStore::NotifyChangeListener() {
  MutexLock lock(&listener_mu_);
  if (change_fn_ != nullptr) change_fn_(change_ctx_);
}

bool LogStore::FindLiveLocked(std::string_view key, IndexEntry* e, bool* in_index) {
  *in_index = index_.Find(key, e);
  if (!*in_index || !e->expires) return *in_index;
  Epoch::ReadGuard guard;
  std::string_view value;
  uint64_t expires_at;
  // Damage counts as present: the write that follows replaces it.
  return !ResolveInReadSection(key, e, &value, &expires_at).IsNotFound();
}

void LogStore::QueueExpiry(std::string_view key, uint64_t seq, uint64_t at_ms) {
  bool earliest;
  {
    MutexLock lock(&expiry_mu_);
    expiry_heap_.push_back(ExpiryItem{at_ms, seq, std::string(key)});
    std::push_heap(expiry_heap_.begin(), expiry_heap_.end(), std::greater<>());
    earliest = expiry_heap_.front().seq == seq;
    CountRequest();
  }
  if (earliest) expiry_cv_.Signal();
}

// At Open: every expiring put recovery applied that is still the key's value.
void LogStore::QueueRecoveredExpiries(
    const std::vector<std::pair<std::string, uint64_t>>& candidates) {
  for (const auto& [key, seq] : candidates) {
    IndexEntry e;
    if (!index_.Find(key, &e) || e.version != seq || !e.expires) continue;
    Epoch::ReadGuard guard;
    std::string_view value;
    uint64_t at = 0;
    Status s = ResolveInReadSection(key, &e, &value, &at);
    if (s.IsNotFound()) at = 1;  // already expired: due at once
    if (at != 0) QueueExpiry(key, seq, at);
  }
}

bool LogStore::ExpireKey(const std::string& key, uint64_t seq) {
  if (!expiry_writes_.load(std::memory_order_acquire)) return false;  // a replica: retried
  MutexLock lock(&write_mu_);
  IndexEntry e;
  if (!index_.Find(key, &e) || e.version != seq) return false;  // overwritten or deleted since
  const uint64_t tomb_seq = next_seq_;
  EncodeRecord(RecordType::kExpire, tomb_seq, key, {}, &write_buf_);
  uint64_t offset;
  if (!AppendLocked(&offset).ok()) return false;  // the key still reads as absent; retried
  ++next_seq_;
  index_.Erase(key, &e);
  active_has_dead_ = true;
  live_bytes_.fetch_sub(EntryRecordSize(key.size(), e));
  PublishSeqLocked(tomb_seq);
  (void)AfterAppendLocked();
  return true;
}

void LogStore::ExpiryLoop() {
  std::vector<ExpiryItem> due;
  MutexLock lock(&expiry_mu_);
  while (!expiry_stop_) {
    if (expiry_heap_.empty()) {
      expiry_cv_.Wait(&expiry_mu_);
      continue;
    }
    const uint64_t now = NowMs();
    if (expiry_heap_.front().at_ms > now) {
      expiry_cv_.WaitFor(&expiry_mu_, std::chrono::milliseconds(expiry_heap_.front().at_ms - now));
      continue;
    }
    due.clear();
    expiry_busy_ = true;
    while (!expiry_heap_.empty() && expiry_heap_.front().at_ms <= now) {
      std::pop_heap(expiry_heap_.begin(), expiry_heap_.end(), std::greater<>());
      due.push_back(std::move(expiry_heap_.back()));
      expiry_heap_.pop_back();
    }
    lock.Unlock();
    bool wrote = false;
    for (const ExpiryItem& it : due) {
      if (ExpireKey(it.key, it.seq)) {
        wrote = true;
      } else {
        IndexEntry e;  // an append failed (the entry is still that version): try again soon
        if (index_.Find(it.key, &e) && e.version == it.seq) QueueExpiry(it.key, it.seq, now + 1000);
      }
    }
    // The feed shows only durable writes under --fsync always.
    if (wrote && opts_.fsync == FsyncPolicy::kAlways) (void)Sync();
    if (wrote) NotifyChangeListener();
    lock.Lock();
    expiry_busy_ = false;
    expiry_idle_cv_.SignalAll();
  }
}

void LogStore::StopExpiry() {
  if (!expirer_.joinable()) return;
  {
    MutexLock lock(&expiry_mu_);
    expiry_stop_ = true;
  }
  expiry_cv_.SignalAll();
  expirer_.join();
}

}  // namespace httpkv::storage
