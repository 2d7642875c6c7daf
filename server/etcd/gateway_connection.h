// One blocking HTTP/1.1 keep-alive connection to an etcd JSON gateway endpoint, with a
// deadline on every step (non-blocking connect + poll; never waits past it). Strict and
// small: POST with Content-Length out; status line, headers and a Content-Length or
// chunked body (etcd's streaming lease keep-alive answers chunked, with a trailer) in.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/etcd/endpoint.h"

namespace httpkv::etcd {

struct GatewayAnswer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  // The first header of that name (case-insensitive); empty when absent.
  std::string_view Header(std::string_view name) const;
};

class GatewayConnection {
 public:
  using Clock = std::chrono::steady_clock;

  GatewayConnection() = default;
  ~GatewayConnection() { Close(); }
  GatewayConnection(const GatewayConnection&) = delete;
  GatewayConnection& operator=(const GatewayConnection&) = delete;

  // POSTs `body` (application/json) to `path` at `endpoint`, reusing the open connection
  // when it is to the same endpoint, else connecting. Returns false with *error on any
  // transport or HTTP-framing failure, or when `deadline` passes; the connection is then
  // closed. A reused connection the server had already closed (no answer byte read) is
  // retried once on a fresh connection within the same deadline.
  bool Post(const Endpoint& endpoint, std::string_view path, std::string_view body,
            Clock::time_point deadline, GatewayAnswer* answer, std::string* error);

  void Close();
  // Outgoing connections leave from this local IP address (a literal; "" or an invalid one:
  // the kernel picks), e.g. the member's own address on a host with several. False if `ip`
  // is not an address literal.
  bool SetSourceAddress(const std::string& ip);
  // Every request carries `Authorization: Bearer TOKEN` ("": none). TOKEN is never logged.
  void SetBearerToken(std::string token) { bearer_token_ = std::move(token); }

 private:
  enum class Io { kOk, kTimeout, kClosed, kError };

  bool Connect(const Endpoint& endpoint, Clock::time_point deadline, std::string* error);
  bool PeerClosedWhileIdle() const;
  Io SendAll(std::string_view data, Clock::time_point deadline);
  Io ReadMore(Clock::time_point deadline);  // appends to in_
  // Reads until in_ holds at least `n` bytes from offset 0.
  Io Need(size_t n, Clock::time_point deadline);
  // Reads until a "\r\n" at or after `from`; *eol is its offset.
  Io NeedLine(size_t from, size_t* eol, Clock::time_point deadline);
  // Text for a failed step; remembers it in last_failure_.
  std::string Describe(Io io);
  bool ReadAnswer(Clock::time_point deadline, GatewayAnswer* answer, bool* close_after,
                  std::string* error);
  bool ReadChunkedBody(size_t pos, Clock::time_point deadline, std::string* body,
                       std::string* error);

  int fd_ = -1;
  sockaddr_storage source_{};  // ss_family 0: none
  socklen_t source_len_ = 0;
  std::string connected_to_;  // Endpoint::url of fd_
  std::string bearer_token_;
  std::string in_;
  int errno_ = 0;  // of the last Io::kError
  Io last_failure_ = Io::kOk;
};

}  // namespace httpkv::etcd
