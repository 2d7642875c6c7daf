// Counters and latency histograms of one worker (merged into the run's totals).
// Owned and written by one worker thread; read by others only after it stopped.
#pragma once

#include <array>
#include <cstdint>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/request_mix.h"

namespace httpkv::bench {

struct OpStats {
  uint64_t requests = 0;  // responses received (any status)
  uint64_t non_2xx = 0;
  uint64_t errors = 0;  // failures with a request of this op at the head of the queue
  Histogram latency;    // nanoseconds

  void Merge(const OpStats& o) {
    requests += o.requests;
    non_2xx += o.non_2xx;
    errors += o.errors;
    latency.Merge(o.latency);
  }
};

struct Stats {
  std::array<OpStats, kNumOps> ops;
  uint64_t connect_errors = 0;  // refused, unreachable, timed out
  uint64_t io_errors = 0;       // resets, peer closed with requests in flight
  uint64_t parse_errors = 0;    // malformed or unsolicited responses
  uint64_t reconnects = 0;      // connections re-established after a close or failure
  uint64_t connects = 0;        // successful connects (not reset by warm-up)
  uint64_t tls_handshakes = 0;  // completed TLS handshakes (--tls)
  uint64_t stale_retries = 0;   // --cluster: requests sent again after a 421/503

  uint64_t errors() const { return connect_errors + io_errors + parse_errors; }
  uint64_t requests() const {
    uint64_t n = 0;
    for (const auto& o : ops) n += o.requests;
    return n;
  }
  uint64_t non_2xx() const {
    uint64_t n = 0;
    for (const auto& o : ops) n += o.non_2xx;
    return n;
  }
  Histogram AllLatency() const {
    Histogram h;
    for (const auto& o : ops) h.Merge(o.latency);
    return h;
  }
  void Merge(const Stats& s) {
    for (size_t i = 0; i < kNumOps; ++i) ops[i].Merge(s.ops[i]);
    connect_errors += s.connect_errors;
    io_errors += s.io_errors;
    parse_errors += s.parse_errors;
    reconnects += s.reconnects;
    connects += s.connects;
    tls_handshakes += s.tls_handshakes;
    stale_retries += s.stale_retries;
  }
  // End of warm-up: clears everything but `connects`, in place (no reallocation).
  void ResetMeasurements() {
    for (auto& o : ops) {
      o.requests = o.non_2xx = o.errors = 0;
      o.latency.Reset();
    }
    connect_errors = io_errors = parse_errors = reconnects = tls_handshakes = stale_retries = 0;
  }
};

}  // namespace httpkv::bench
