// --watchers N: N change-feed connections (GET /kv/?watch=1, from now) held open while the
// load runs, on one thread of their own. Each PUT answer's X-Seq is stamped into an AckTable
// by the load's connections; each event a watcher receives is matched by its id (= SEQ) and
// its delivery latency recorded: from the PUT answer reaching the load generator to the
// event reaching the watcher. An event that arrives before its PUT answer was processed
// counts 0 (the feed was faster than the answer).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/options.h"

namespace httpkv::bench {

class AckTable {
 public:
  static constexpr size_t kSlots = size_t{1} << 20;
  AckTable() : slots_(std::make_unique<Slot[]>(kSlots)) {}
  void Stamp(uint64_t seq, int64_t ns) {
    Slot& s = slots_[seq & (kSlots - 1)];
    s.ns.store(ns, std::memory_order_relaxed);
    s.seq.store(seq, std::memory_order_release);
  }
  // The time the answer for seq arrived, or -1 if not (yet) seen.
  int64_t Find(uint64_t seq) const {
    const Slot& s = slots_[seq & (kSlots - 1)];
    if (s.seq.load(std::memory_order_acquire) != seq) return -1;
    return s.ns.load(std::memory_order_relaxed);
  }

 private:
  struct Slot {
    std::atomic<uint64_t> seq{0};
    std::atomic<int64_t> ns{0};
  };
  std::unique_ptr<Slot[]> slots_;
};

struct FeedResult {
  uint64_t watchers = 0;  // connections that got their 200 head
  uint64_t events = 0;    // events received over all watchers while measuring
  uint64_t closed = 0;    // watchers the server closed (too slow) or that failed
  Histogram latency;      // nanoseconds
};

class FeedWatchers {
 public:
  FeedWatchers(const Options& opt, const AckTable* acks) : opt_(opt), acks_(acks) {}
  ~FeedWatchers() { Stop(); }
  // Connects every watcher and waits for their answer heads; false (with *error) if any
  // could not start.
  bool Start(std::string* error);
  void ResetMeasurements() { reset_.store(true, std::memory_order_release); }
  // Stops the thread and closes the watchers; the result is complete afterwards.
  void Stop();
  const FeedResult& result() const { return result_; }

 private:
  struct Conn {
    int fd = -1;
    std::string carry;  // unparsed tail of the stream
  };
  void Loop();
  void Scan(Conn& c, int64_t now);

  const Options& opt_;
  const AckTable* acks_;
  std::vector<Conn> conns_;
  int epfd_ = -1;
  std::atomic<bool> stop_{false}, reset_{false};
  std::thread thread_;
  FeedResult result_;
};

}  // namespace httpkv::bench
