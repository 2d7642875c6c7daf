#include "server/base/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace httpkv::server {

namespace {

size_t StatusSlot(int status) {
  for (size_t i = 0; i + 1 < kStatusSlots; ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatusSlots - 1;
}

}  // namespace

void WorkerMetrics::RecordRequest(http::Method m, Route route, int status,
                                  std::chrono::nanoseconds latency) {
  const size_t mi = std::min<size_t>(static_cast<size_t>(m), kMethodSlots - 1);
  Bump(requests[mi][static_cast<size_t>(route)][StatusSlot(status)]);
  const uint64_t us = static_cast<uint64_t>(latency.count()) / 1000;
  size_t b = 0;
  while (b < kLatencyBucketsUs.size() && us > kLatencyBucketsUs[b]) ++b;
  Bump(latency_buckets[b]);
  Bump(latency_sum_us, us);
}

void WorkerMetrics::RecordSyncWait(std::chrono::nanoseconds waited) {
  const uint64_t us = static_cast<uint64_t>(waited.count()) / 1000;
  size_t b = 0;
  while (b < kLatencyBucketsUs.size() && us > kLatencyBucketsUs[b]) ++b;
  Bump(sync_wait_buckets[b]);
  Bump(sync_wait_sum_us, us);
}

namespace {

uint64_t Sum(const std::vector<const WorkerMetrics*>& ws, const Counter WorkerMetrics::*field) {
  uint64_t total = 0;
  for (const auto* w : ws) total += (w->*field).load(std::memory_order_relaxed);
  return total;
}

void Gauge(std::string* out, const char* name, const char* help, const char* type, uint64_t v) {
  fmt::format_to(std::back_inserter(*out), "# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help,
                 type, v);
}

void RenderRequests(const std::vector<const WorkerMetrics*>& ws, std::string* out) {
  *out += "# HELP httpkv_requests_total HTTP requests answered, by method, route and status.\n";
  *out += "# TYPE httpkv_requests_total counter\n";
  for (size_t m = 0; m < kMethodSlots; ++m) {
    for (size_t r = 0; r < kRouteCount; ++r) {
      for (size_t s = 0; s < kStatusSlots; ++s) {
        uint64_t n = 0;
        for (const auto* w : ws) n += w->requests[m][r][s].load(std::memory_order_relaxed);
        if (n == 0) continue;
        const std::string status = s + 1 < kStatusSlots ? std::to_string(kStatuses[s]) : "other";
        fmt::format_to(std::back_inserter(*out),
                       "httpkv_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                       http::MethodName(static_cast<http::Method>(m)),
                       RouteName(static_cast<Route>(r)), status, n);
      }
    }
  }
}

// A histogram over kLatencyBucketsUs summed over the workers (field: its buckets, sum).
void RenderLatencyHistogram(const std::vector<const WorkerMetrics*>& ws, const char* name,
                            const char* help, const LatencyBuckets WorkerMetrics::*buckets,
                            const Counter WorkerMetrics::*sum_us, std::string* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "# HELP {0} {1}\n# TYPE {0} histogram\n", name, help);
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kLatencyBucketsUs.size(); ++b) {
    for (const auto* w : ws) cumulative += (w->*buckets)[b].load(std::memory_order_relaxed);
    if (b < kLatencyBucketsUs.size()) {
      fmt::format_to(it, "{}_bucket{{le=\"{}\"}} {}\n", name,
                     static_cast<double>(kLatencyBucketsUs[b]) / 1e6, cumulative);
    } else {
      fmt::format_to(it, "{0}_bucket{{le=\"+Inf\"}} {1}\n{0}_sum {2}\n{0}_count {1}\n", name,
                     cumulative, static_cast<double>(Sum(ws, sum_us)) / 1e6);
    }
  }
}

void RenderLatency(const std::vector<const WorkerMetrics*>& ws, std::string* out) {
  RenderLatencyHistogram(ws, "httpkv_request_duration_seconds",
                         "Time from reading a request to queuing its response.",
                         &WorkerMetrics::latency_buckets, &WorkerMetrics::latency_sum_us, out);
  RenderLatencyHistogram(ws, "httpkv_replication_sync_wait_seconds",
                         "How long acknowledgements waited for --sync replicas.",
                         &WorkerMetrics::sync_wait_buckets, &WorkerMetrics::sync_wait_sum_us, out);
  Gauge(out, "httpkv_replication_sync_timeouts_total",
        "Writes answered 503 after waiting --sync-timeout for replicas.", "counter",
        Sum(ws, &WorkerMetrics::sync_timeouts));
  Gauge(out, "httpkv_replication_fence_dropped_connections_total",
        "Connections whose unsent acknowledgements were dropped because the lease ran out.",
        "counter", Sum(ws, &WorkerMetrics::fence_drops));
}

// A store histogram; scale converts its unit to the metric's (1e-9: ns -> seconds).
void RenderStoreHistogram(const char* name, const char* help, const storage::HistogramSnapshot& h,
                          double scale, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "# HELP {0} {1}\n# TYPE {0} histogram\n", name, help);
  uint64_t cumulative = 0;
  for (size_t b = 0; b < h.counts.size(); ++b) {
    cumulative += h.counts[b];
    if (b < h.bounds.size()) {
      fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"{}\"}} {}\n", name,
                     static_cast<double>(h.bounds[b]) * scale, cumulative);
    } else {
      fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
    }
  }
  fmt::format_to(std::back_inserter(*out), "{0}_sum {1}\n{0}_count {2}\n", name,
                 static_cast<double>(h.sum) * scale, cumulative);
}

}  // namespace

void RenderPrometheus(const std::vector<const WorkerMetrics*>& ws, const storage::Stats& store,
                      std::string* out) {
  out->clear();
  RenderRequests(ws, out);
  RenderLatency(ws, out);
  Gauge(out, "httpkv_connections_open", "Open client connections.", "gauge",
        Sum(ws, &WorkerMetrics::connections_open));
  Gauge(out, "httpkv_connections_accepted_total", "Accepted client connections.", "counter",
        Sum(ws, &WorkerMetrics::connections_accepted));
  Gauge(out, "httpkv_received_bytes_total", "Bytes read from clients.", "counter",
        Sum(ws, &WorkerMetrics::bytes_in));
  Gauge(out, "httpkv_sent_bytes_total", "Bytes written to clients.", "counter",
        Sum(ws, &WorkerMetrics::bytes_out));
  Gauge(out, "httpkv_closed_connection_send_calls_total",
        "send(2) calls made by connections that have closed.", "counter",
        Sum(ws, &WorkerMetrics::send_calls));
  Gauge(out, "httpkv_connections_rejected_total", "Connections refused over --max-connections.",
        "counter", Sum(ws, &WorkerMetrics::connections_rejected));
  Gauge(out, "httpkv_connection_timeouts_total", "Connections closed by a deadline.", "counter",
        Sum(ws, &WorkerMetrics::timeouts));
  Gauge(out, "httpkv_tls_handshakes_total", "Completed TLS handshakes.", "counter",
        Sum(ws, &WorkerMetrics::tls_handshakes));
  Gauge(out, "httpkv_tls_resumed_handshakes_total", "TLS handshakes that resumed a session.",
        "counter", Sum(ws, &WorkerMetrics::tls_resumed));
  Gauge(out, "httpkv_tls_handshake_failures_total",
        "TLS connections closed before the handshake completed.", "counter",
        Sum(ws, &WorkerMetrics::tls_handshake_failures));
  Gauge(out, "httpkv_tls_plain_http_total", "Plain HTTP on the TLS port (400 and closed).",
        "counter", Sum(ws, &WorkerMetrics::tls_plain_http));
  Gauge(out, "httpkv_tls_ktls_send_connections_total",
        "TLS connections whose sends went through kernel TLS.", "counter",
        Sum(ws, &WorkerMetrics::tls_ktls_send));
  Gauge(out, "httpkv_bad_requests_total", "Requests rejected by the parser.", "counter",
        Sum(ws, &WorkerMetrics::parse_errors));
  Gauge(out, "httpkv_feed_watchers", "Open change-feed watchers.", "gauge",
        Sum(ws, &WorkerMetrics::feed_watchers_open));
  Gauge(out, "httpkv_feed_watchers_started_total", "Change-feed watchers started.", "counter",
        Sum(ws, &WorkerMetrics::feed_watchers_started));
  Gauge(out, "httpkv_feed_watchers_cut_total",
        "Change-feed watchers closed for falling too far behind.", "counter",
        Sum(ws, &WorkerMetrics::feed_watchers_cut));
  Gauge(out, "httpkv_seq", "SEQ of the newest write.", "gauge", store.last_seq);
  Gauge(out, "httpkv_feed_seq",
        "Newest SEQ the change feed may send (durable SEQ under --fsync always).", "gauge",
        store.feed_seq);
  Gauge(out, "httpkv_seq_horizon",
        "Compaction dropped history up to this SEQ; watching from before it gets 410.", "gauge",
        store.seq_horizon);
  Gauge(out, "httpkv_keys", "Live keys in the store.", "gauge", store.keys);
  Gauge(out, "httpkv_disk_bytes", "Bytes of log segments on disk.", "gauge", store.disk_bytes);
  Gauge(out, "httpkv_live_bytes", "Bytes of records holding current values.", "gauge",
        store.live_bytes);
  Gauge(out, "httpkv_dead_bytes", "Bytes of overwritten or deleted records.", "gauge",
        store.dead_bytes);
  Gauge(out, "httpkv_log_appends_total", "Records appended to the log.", "counter", store.appends);
  Gauge(out, "httpkv_segments", "Log segment files.", "gauge", store.segments);
  Gauge(out, "httpkv_compactions_total", "Completed compactions.", "counter", store.compactions);
  Gauge(out, "httpkv_fsyncs_total",
        "Every fdatasync of the store (log, spare, compaction, hints, recovery).", "counter",
        store.fsyncs);
  Gauge(out, "httpkv_fsync_errors_total", "Failed fdatasync calls.", "counter", store.fsync_errors);
  fmt::format_to(std::back_inserter(*out),
                 "# HELP httpkv_fsync_seconds_total Time spent in fdatasync.\n"
                 "# TYPE httpkv_fsync_seconds_total counter\nhttpkv_fsync_seconds_total {}\n",
                 static_cast<double>(store.fsync_ns_total) / 1e9);
  RenderStoreHistogram("httpkv_fdatasync_seconds", "Latency of each fdatasync of the store.",
                       store.fsync_latency_ns, 1e-9, out);
  RenderStoreHistogram("httpkv_writes_per_fdatasync",
                       "Writes made durable by each fdatasync of the log (group commit).",
                       store.writes_per_fsync, 1.0, out);
}

}  // namespace httpkv::server
