// The process-wide connection cap (--max-connections): one number for the whole
// process, not a share per reactor thread (SO_REUSEPORT spreads connections unevenly).
//
// ConnectionSlots is the shared counter: touched once per accepted and once per closed
// connection (a relaxed atomic, never per request). PlanConnectionCap sizes the cap
// from RLIMIT_NOFILE as Redis sizes maxclients: by default the soft limit minus a
// reserve for the store, the listeners and the loops; a larger explicit request raises
// the soft limit up to the hard one, and what still does not fit lowers the cap with a
// warning.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace httpkv::server {

class ConnectionSlots {
 public:
  explicit ConnectionSlots(uint64_t cap) : cap_(cap) {}
  // Takes one slot; false (nothing taken) when the cap is reached. Any thread.
  bool TryAcquire() {
    if (open_.fetch_add(1, std::memory_order_relaxed) < cap_) return true;
    open_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void Release() { open_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t cap() const { return cap_; }
  uint64_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  const uint64_t cap_;
  std::atomic<uint64_t> open_{0};
};

// Descriptors kept out of the cap: those open now (store segments, lock file, logs,
// listeners), three per reactor thread still to come (poller, wake-up channel, the
// listener's spare fd for EMFILE shedding) and headroom for files the store opens
// later (new segments, compaction output, hints).
inline constexpr uint64_t kFdHeadroom = 64;
uint64_t FdReserve(uint64_t fds_open_now, unsigned threads);

struct ConnectionCapPlan {
  uint64_t cap = 0;
  uint64_t raise_soft_to = 0;  // nonzero: set RLIMIT_NOFILE's soft limit to this first
  std::string warning;         // nonempty: the request was lowered (one line)
};

// requested: --max-connections, 0 for the default. soft/hard: RLIMIT_NOFILE.
ConnectionCapPlan PlanConnectionCap(uint64_t requested, uint64_t soft, uint64_t hard,
                                    uint64_t reserve);

// Applies the plan to this process: reads RLIMIT_NOFILE, raises the soft limit when
// the plan asks (falling back to the current limit if the kernel refuses) and logs the
// resulting cap (and the warning, if any). Returns the cap.
uint64_t SizeConnectionCap(uint64_t requested, unsigned threads);

}  // namespace httpkv::server
