// An in-process HTTP server for client tests: a thread on 127.0.0.1 (port 0) with blocking
// accept/read/write. It parses each request with the strict RequestParser, records it and
// answers the next canned reply, written chunk by chunk (one send() per chunk).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/request_parser.h"

namespace httpkv::client::fake {

// Chunks written one send() each. No chunks: read the request, never answer.
// close_after: close the connection once written.
struct CannedReply {
  std::vector<std::string> chunks;
  bool close_after = false;
};

struct SeenRequest {
  std::string method, target, body, raw;
  int connection = 0;  // 1-based accept count
};

inline std::string TextReply(int status, std::string_view reason, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

class FakeServer {
 public:
  explicit FakeServer(std::vector<CannedReply> replies) : replies_(replies.begin(), replies.end()) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 8) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeServer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
    }
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the blocking accept()
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  int connections() {
    std::lock_guard lock(mu_);
    return accepted_;
  }

 private:
  void AcceptLoop() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      {
        std::lock_guard lock(mu_);
        if (stopping_) {
          ::close(fd);
          return;
        }
        conn_fd_ = fd;
        ++accepted_;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      Serve(fd);
      std::lock_guard lock(mu_);
      conn_fd_ = -1;
      ::close(fd);
    }
  }

  // Serves requests until EOF, a parse error, a close_after reply or no replies left.
  void Serve(int fd) {
    http::Limits limits;
    http::RequestParser parser(&limits);
    std::string buf;
    char chunk[4096];
    for (;;) {
      const std::string raw = buf;
      http::Request req;
      const http::ParseResult r = parser.Parse(std::span<char>(buf.data(), buf.size()), &req);
      if (r.kind == http::ParseResult::kError) return;
      if (r.kind == http::ParseResult::kNeedMore) {
        const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
        continue;
      }
      CannedReply reply;
      {
        std::lock_guard lock(mu_);
        seen_.push_back({std::string(req.method_name), std::string(req.target),
                         std::string(req.body), raw.substr(0, r.consumed), accepted_});
        if (replies_.empty()) return;
        reply = replies_.front();
        replies_.pop_front();
      }
      buf.erase(0, r.consumed);
      parser.Reset();
      for (const std::string& c : reply.chunks) {
        if (::send(fd, c.data(), c.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(c.size())) return;
      }
      if (reply.close_after) return;
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::deque<CannedReply> replies_;
  std::vector<SeenRequest> seen_;
  int accepted_ = 0;
  int conn_fd_ = -1;
  bool stopping_ = false;
};

}  // namespace httpkv::client::fake
