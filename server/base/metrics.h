// Metrics: request counters and latency histograms, one block per reactor thread.
//
// Each WorkerMetrics is written only by its own loop thread (single writer), so counters
// are bumped with a relaxed load+store instead of a locked read-modify-write; /metrics
// reads every block with relaxed loads from whichever thread serves it. No lock is
// shared between reactor threads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "http/method.h"
#include "server/base/route_table.h"
#include "storage/log_store.h"

namespace httpkv::server {

using Counter = std::atomic<uint64_t>;

// Single-writer increment: no lock prefix needed, readers may see a slightly old value.
inline void Bump(Counter& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline constexpr size_t kMethodSlots = 7;  // http::Method values, kOther last
// The statuses the server can answer, each with its own counter; anything else is counted
// in a last "other" slot. Keeps method x route x status small (13 KiB per thread).
inline constexpr std::array<uint16_t, 27> kStatuses = {100, 200, 201, 202, 204, 304, 400, 404, 405,
                                                       408, 409, 411, 412, 413, 414, 415, 417, 431,
                                                       500, 501, 502, 503, 505, 507, 410, 421, 0};
inline constexpr size_t kStatusSlots = kStatuses.size();
// Upper bounds of the latency histogram buckets, in microseconds (+Inf implied).
inline constexpr std::array<uint64_t, 12> kLatencyBucketsUs = {
    25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};

using LatencyBuckets = std::array<Counter, kLatencyBucketsUs.size() + 1>;

struct WorkerMetrics {
  std::array<std::array<std::array<Counter, kStatusSlots>, kRouteCount>, kMethodSlots> requests{};
  LatencyBuckets latency_buckets{};
  Counter latency_sum_us{0};
  // --sync K: how long acknowledgements waited for replicas; those given up (503 after
  // --sync-timeout) and those dropped because the lease ran out while they waited.
  LatencyBuckets sync_wait_buckets{};
  Counter sync_wait_sum_us{0};
  Counter sync_timeouts{0};
  Counter fence_drops{0};
  Counter connections_open{0};
  Counter connections_accepted{0};
  Counter bytes_in{0};
  Counter bytes_out{0};
  Counter parse_errors{0};
  Counter connections_rejected{0};    // over --max-connections
  Counter timeouts{0};                // closed by a deadline
  Counter send_calls{0};              // send(2) calls of closed connections (added at close)
  Counter tls_handshakes{0};          // completed TLS handshakes
  Counter tls_resumed{0};             // ... of which resumed a session
  Counter tls_handshake_failures{0};  // closed before the handshake completed
  Counter tls_plain_http{0};          // plain HTTP on the TLS port: 400 and closed
  Counter tls_ktls_send{0};           // connections whose sends went through kernel TLS
  Counter feed_watchers_open{0};      // change-feed watchers now
  Counter feed_watchers_started{0};
  Counter feed_watchers_cut{0};  // closed for falling too far behind

  void RecordRequest(http::Method m, Route route, int status, std::chrono::nanoseconds latency);
  void RecordSyncWait(std::chrono::nanoseconds waited);
};

// Renders all workers' blocks plus store statistics in Prometheus text format 0.0.4.
void RenderPrometheus(const std::vector<const WorkerMetrics*>& workers, const storage::Stats& store,
                      std::string* out);

}  // namespace httpkv::server
