#include "tests/e2e/test_server.h"

#include <poll.h>
#include <sys/time.h>

#include <cerrno>

#include "http/request.h"

namespace httpkv::e2e {

std::string Reply::Header(std::string_view name) const {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos);
    size_t eol = head.find("\r\n", pos);
    if (colon == std::string::npos || eol == std::string::npos || colon > eol) break;
    if (http::EqualsIgnoreCase(std::string_view(head).substr(pos, colon - pos), name)) {
      size_t v = colon + 1;
      while (v < eol && head[v] == ' ') ++v;
      return head.substr(v, eol - v);
    }
  }
  return {};
}

RawClient::RawClient(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void RawClient::SendByteByByte(std::string_view bytes) {
  for (char c : bytes) {
    if (::send(fd_, &c, 1, MSG_NOSIGNAL) != 1) return;
  }
}

Reply RawClient::Read(bool head_request) {
  http::ResponseParser parser;
  http::Response resp;
  for (;;) {
    if (!pending_.empty()) {
      // Parsed in place: a chunked body is decoded inside pending_ across calls, so the
      // parser must see its own earlier edits again.
      http::ParseResult r =
          parser.Parse(std::span<char>(pending_.data(), pending_.size()), head_request, &resp);
      if (r.kind == http::ParseResult::kError) return {};
      if (r.kind == http::ParseResult::kComplete) {
        Reply out;
        out.status = resp.status;
        size_t head_end = pending_.find("\r\n\r\n");
        out.head = pending_.substr(0, head_end + 2);
        out.body.assign(resp.body);
        pending_.erase(0, r.consumed);
        if (resp.status == 100) return Read(head_request);  // interim: skip
        return out;
      }
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return {};
    pending_.append(buf, static_cast<size_t>(n));
  }
}

Reply RawClient::ReadIfAvailable() {
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0) pending_.append(buf, static_cast<size_t>(n));
  if (pending_.find("\r\n\r\n") == std::string::npos) return {};
  return Read();
}

std::string RawClient::ReadHead() {
  size_t end;
  while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return pending_;
    pending_.append(buf, static_cast<size_t>(n));
  }
  std::string head = pending_.substr(0, end + 4);
  pending_.erase(0, end + 4);
  return head;
}

bool RawClient::WaitReadable(int timeout_ms) {
  if (!pending_.empty()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

bool RawClient::AtEof() {
  if (!pending_.empty()) return false;
  char c;
  return ::recv(fd_, &c, 1, 0) == 0;
}

std::string RawClient::ReadToEof() {
  std::string out = std::move(pending_);
  pending_.clear();
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string BuildRequest(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string req;
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  req.append(extra_headers);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  return req;
}

Reply Request(uint16_t port, std::string_view method, std::string_view target,
              std::string_view body, std::string_view extra_headers) {
  RawClient c(port);
  c.Send(BuildRequest(method, target, body, extra_headers));
  return c.Read(method == "HEAD");
}

}  // namespace httpkv::e2e
