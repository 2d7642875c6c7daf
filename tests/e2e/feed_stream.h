// A change-feed client for e2e tests: opens GET /kv/?watch=1..., reads the answer head, then
// decodes the chunked text/event-stream into events and comments as they arrive. Reads
// block with a receive timeout (a safety net: a server bug fails the test, never hangs it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace httpkv::e2e {

struct FeedEvent {
  uint64_t id = 0;
  std::string event;    // put, delete, expire; empty for a comment
  std::string data;     // the JSON line
  std::string comment;  // ": text" without ": "
  bool ok = false;      // false: the stream ended (or timed out) first
};

class FeedStream {
 public:
  // rcvbuf > 0: a small receive buffer (a slow reader's socket).
  explicit FeedStream(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~FeedStream() {
    if (fd_ >= 0) ::close(fd_);
  }
  FeedStream(const FeedStream&) = delete;
  FeedStream& operator=(const FeedStream&) = delete;

  // Sends the request; query without '?', extra header lines end in \r\n.
  void Request(const std::string& query, const std::string& extra_headers = "") {
    const std::string req =
        "GET /kv/?" + query + " HTTP/1.1\r\nHost: t\r\n" + extra_headers + "\r\n";
    (void)::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  // Sends the request and reads the head: status (0 if the connection ended).
  int Open(const std::string& query, const std::string& extra_headers = "") {
    Request(query, extra_headers);
    return ReadHead();
  }
  int ReadHead() {
    size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return 0;
    }
    head_ = raw_.substr(0, end + 2);
    raw_.erase(0, end + 4);
    return std::atoi(head_.c_str() + 9);
  }
  const std::string& head() const { return head_; }
  std::string Header(const std::string& name) const {
    const size_t at = head_.find("\r\n" + name + ": ");
    if (at == std::string::npos) return {};
    const size_t start = at + name.size() + 4;
    return head_.substr(start, head_.find("\r\n", start) - start);
  }
  // The body of a non-streamed answer (Content-Length).
  std::string ReadBody() {
    const size_t len = std::strtoul(Header("Content-Length").c_str(), nullptr, 10);
    while (raw_.size() < len) {
      if (!Fill()) break;
    }
    return raw_.substr(0, len);
  }

  // The next event or comment.
  FeedEvent Next() {
    FeedEvent ev;
    size_t end;
    while ((end = text_.find("\n\n")) == std::string::npos) {
      if (!DecodeChunk()) return ev;
    }
    const std::string block = text_.substr(0, end + 1);
    text_.erase(0, end + 2);
    size_t pos = 0;
    while (pos < block.size()) {
      const size_t nl = block.find('\n', pos);
      const std::string line = block.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.starts_with("id: ")) ev.id = std::strtoull(line.c_str() + 4, nullptr, 10);
      if (line.starts_with("event: ")) ev.event = line.substr(7);
      if (line.starts_with("data: ")) ev.data = line.substr(6);
      if (line.starts_with(": ")) ev.comment = line.substr(2);
    }
    ev.ok = true;
    return ev;
  }
  // The next event, skipping heartbeat comments.
  FeedEvent NextEvent() {
    for (;;) {
      FeedEvent ev = Next();
      if (!ev.ok || ev.comment != "keepalive") return ev;
    }
  }
  bool ended() const { return ended_; }
  uint64_t bytes_read() const { return bytes_read_; }
  int fd() const { return fd_; }
  bool connected() const { return connected_; }

 private:
  bool Fill() {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      ended_ = true;
      return false;
    }
    bytes_read_ += static_cast<uint64_t>(n);
    raw_.append(buf, static_cast<size_t>(n));
    return true;
  }
  // Moves one chunk's data from raw_ to text_; false at the last chunk or EOF.
  bool DecodeChunk() {
    size_t crlf;
    while ((crlf = raw_.find("\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    const size_t len = std::strtoul(raw_.c_str(), nullptr, 16);
    if (len == 0) {
      ended_ = true;
      return false;
    }
    while (raw_.size() < crlf + 2 + len + 2) {
      if (!Fill()) return false;
    }
    text_.append(raw_, crlf + 2, len);
    raw_.erase(0, crlf + 2 + len + 2);
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool ended_ = false;
  uint64_t bytes_read_ = 0;
  std::string raw_, head_, text_;
};

}  // namespace httpkv::e2e
