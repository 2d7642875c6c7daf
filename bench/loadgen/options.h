// Run configuration shared (read-only) by every worker thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "bench/loadgen/request_mix.h"
#include "reactor/inet_address.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace httpkv::cluster {
class Routes;
}

namespace httpkv::bench {

struct Options {
  std::string target;  // HOST:PORT as given; also the Host header
  reactor::InetAddress addr;
  int connections = 64;
  int threads = 1;
  double duration_s = 10;
  double warmup_s = 0;  // run but discard statistics before measuring
  std::array<uint32_t, kNumOps> weights = {90, 10, 0, 0};
  uint64_t keys = 100000;
  size_t value_size = 64;
  double zipf = 0.99;  // 0: uniform
  int pipeline = 1;
  double rate = 0;  // total requests/s; 0: closed loop
  std::string json_path;
  std::string path;   // fixed GET target (plain servers); disables preload
  std::string token;  // bearer token sent with every request (--token, HTTPKV_TOKEN)
  bool preload = true;
  int preload_depth = 64;  // requests in flight per connection while preloading
  bool progress = false;   // live line on stderr
  bool busy_poll = false;  // workers never sleep in poll (see Spinner)
  uint64_t seed = 1;
  // --tls / --cacert: HTTPS. tls_ctx is the run's client context (client_tls.h).
  bool tls = false;
  std::string cacert;
  SSL_CTX* tls_ctx = nullptr;
  // --new-connection: every request on a fresh connection (Connection: close), so that
  // with --tls each request pays a full handshake (handshakes per second).
  bool new_connection = false;
  int watchers = 0;  // change-feed connections held open during the load (feed_watchers.h)
  // --cluster FILE: requests go to their key's owner (conn_group.h); `cluster` is the
  // run's map, loaded by main (target is then the front, used as the Host header).
  std::string cluster_file;
  cluster::Routes* cluster = nullptr;
};

enum class Mode : uint8_t { kPreload, kClosed, kOpen };

// One phase of a run. Times are steady_clock nanoseconds.
struct Plan {
  Mode mode = Mode::kClosed;
  int64_t start_ns = 0;          // open loop: intended time of the first request
  int64_t measure_start_ns = 0;  // statistics are reset here (end of warm-up)
  int64_t end_ns = 0;            // workers stop here (not used by preload)
  int depth = 1;                 // requests in flight per connection
  double period_ns = 0;          // open loop: 1e9 / rate (whole run)
};

}  // namespace httpkv::bench
