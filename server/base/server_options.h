// ServerOptions: everything httpkv-server is configured with (flags map 1:1 onto it).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "http/request.h"
#include "server/base/deadline.h"
#include "storage/log_store.h"

namespace httpkv::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  unsigned threads = 1;
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kEverySec;
  uint64_t max_value = 1 << 20;  // larger bodies -> 413
  // How long SIGTERM waits for in-flight requests before closing what is left.
  std::chrono::milliseconds drain_timeout{5000};
  Timeouts timeouts;
  // Open connections beyond this, over all threads, get 503 and are closed at once.
  // 0: from RLIMIT_NOFILE (soft limit minus a reserve; see connection_cap.h).
  uint64_t max_connections = 0;
  std::string access_log;  // file for one line per request; empty: none
  // --compat seed: serve "Host: HOST/PATH" on target "/" as a request for /PATH (see
  // server/routes/host_path.h); without it such a request gets 400 naming the fix.
  bool compat_seed = false;
  // --auth-file: bearer tokens and scopes (server/auth/token_file.h); empty: none, and then
  // protected mode (server/auth/peer_policy.h) unless protected_mode is false.
  std::string auth_file;
  bool protected_mode = true;  // --protected-mode on|off; only matters without auth_file
  // --tls-cert / --tls-key (PEM): serve HTTPS on --listen (both or neither).
  std::string tls_cert;
  std::string tls_key;
  bool tls_ktls = true;  // --tls-ktls: hand sends to kernel TLS where the kernel offers it
  bool tls() const { return !tls_cert.empty(); }
  // A watcher whose output is full while it trails the feed by more than this many SEQs is
  // closed with a final comment (memory stays bounded: the log is the buffer).
  uint64_t feed_max_lag = 100000;
  // Comment lines sent to idle watchers (proxies and clients see the stream alive).
  std::chrono::milliseconds feed_heartbeat{15000};
  http::Limits limits() const {
    http::Limits l;
    l.max_body = max_value;
    return l;
  }
};

// SPEC: keys are 1..1024 bytes with no control characters.
inline constexpr size_t kMaxKeyBytes = 1024;

}  // namespace httpkv::server
