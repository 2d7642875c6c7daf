// AccessLog: one line per answered request, combined-log style plus latency:
//   127.0.0.1 - - [25/Nov/2026:14:36:17 +0000] "GET /kv/x HTTP/1.1" 200 22 "-" "curl/7.88.1"
//   0.000041
// (with --auth-file the third field is the token's NAME: "127.0.0.1 - app [...").
// Lines are formatted on the reactor thread into a stack buffer and handed to an spdlog
// async logger; its single background thread writes the file. The caller supplies the
// peer (formatted once per connection, not per request) and the wall-clock second (its
// event loop's cached time), so a line costs no syscall and no clock read. When the queue is full
// the oldest lines are dropped rather than blocking a reactor. Reopen() (SIGHUP) lets
// logrotate move the file away. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/request.h"

namespace spdlog {
class logger;
}

namespace httpkv::server {

class ReopenableFileSink;

class AccessLog {
 public:
  // nullptr and *error (one line) if the file cannot be opened for appending.
  static std::unique_ptr<AccessLog> Open(const std::string& path, std::string* error);
  ~AccessLog();

  // "-" if the peer address cannot be had. Returns the view into buf.
  static constexpr size_t kPeerChars = 48;  // INET6_ADDRSTRLEN and a NUL
  static std::string_view FormatPeer(int fd, char (&buf)[kPeerChars]);

  // user: the combined log's remote-user field — the --auth-file NAME of the request's
  // token ("-" if none). Never the token itself.
  void Record(std::string_view peer, int64_t wall_seconds, const http::Request& req, int status,
              uint64_t body_bytes, std::chrono::nanoseconds latency, std::string_view user = "-");
  void Reopen();

 private:
  AccessLog() = default;
  std::shared_ptr<void> pool_;  // the async logger's thread pool (kept alive here)
  std::shared_ptr<ReopenableFileSink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace httpkv::server
