// Runner: the whole benchmark — reachability probe, optional preload, then the measured
// phase on N worker threads, with live progress on a terminal.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>

#include "bench/loadgen/feed_watchers.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/stats.h"

namespace httpkv::bench {

struct RunResult {
  Stats stats;
  double duration_s = 0;   // measured window (after warm-up)
  uint64_t preloaded = 0;  // keys PUT during preload (0: no preload)
  double preload_s = 0;
  std::string error;  // one line when the run could not happen
  FeedResult feed;    // --watchers
};

// Returns 0 on success, 1 if the target cannot be reached (every connect refused).
// `log` receives progress and notes (stderr in the tool); `stop` (optional) ends the
// measured phase early, e.g. from a SIGINT handler.
int RunBenchmark(const Options& opt, RunResult* result, std::FILE* log,
                 const std::atomic<bool>* stop = nullptr);

// Blocking connect with a timeout: 0 or an errno value.
int ProbeConnect(const Options& opt, int timeout_ms);

}  // namespace httpkv::bench
