#include "server/etcd/gateway_connection.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace httpkv::etcd {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Milliseconds left until `deadline` for poll(), rounded up; 0 when it has passed.
int PollMillis(GatewayConnection::Clock::time_point deadline) {
  auto left = deadline - GatewayConnection::Clock::now();
  if (left <= std::chrono::nanoseconds::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error.
int WaitFor(int fd, short events, GatewayConnection::Clock::time_point deadline) {
  for (;;) {
    int ms = PollMillis(deadline);
    if (ms == 0) return 0;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n > 0) return 1;
  }
}

}  // namespace

void GatewayConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  connected_to_.clear();
  in_.clear();
}

bool GatewayConnection::SetSourceAddress(const std::string& ip) {
  source_len_ = 0;
  if (ip.empty()) return true;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&source_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&source_);
  source_ = {};
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    source_len_ = sizeof *v4;
    return true;
  }
  if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    source_len_ = sizeof *v6;
    return true;
  }
  return false;
}

bool GatewayConnection::Connect(const Endpoint& endpoint, Clock::time_point deadline,
                                std::string* error) {
  Close();
  int fd = ::socket(endpoint.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = fmt::format("socket: {}", std::strerror(errno));
    return false;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source_len_ != 0 && source_.ss_family == endpoint.addr.ss_family &&
      ::bind(fd, reinterpret_cast<const sockaddr*>(&source_), source_len_) != 0) {
    *error = fmt::format("bind to the source address: {}", std::strerror(errno));
    ::close(fd);
    return false;
  }
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&endpoint.addr), endpoint.addr_len);
  if (rc != 0 && errno != EINPROGRESS) {
    *error = fmt::format("connect {}: {}", endpoint.url, std::strerror(errno));
    ::close(fd);
    return false;
  }
  if (rc != 0) {
    int ready = WaitFor(fd, POLLOUT, deadline);
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (ready == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
      so_error = errno;
    }
    if (ready != 1 || so_error != 0) {
      *error = ready == 0 ? fmt::format("connect {}: timed out", endpoint.url)
                          : fmt::format("connect {}: {}", endpoint.url,
                                        std::strerror(ready == 1 ? so_error : errno));
      ::close(fd);
      return false;
    }
  }
  fd_ = fd;
  connected_to_ = endpoint.url;
  return true;
}

bool GatewayConnection::PeerClosedWhileIdle() const {
  pollfd p{fd_, POLLIN, 0};
  // Readable while idle means EOF, a reset, or bytes nobody asked for: not reusable.
  return ::poll(&p, 1, 0) != 0;
}

GatewayConnection::Io GatewayConnection::SendAll(std::string_view data,
                                                 Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int ready = WaitFor(fd_, POLLOUT, deadline);
      if (ready == 0) return Io::kTimeout;
      if (ready < 0) return errno_ = errno, Io::kError;
      continue;
    }
    errno_ = errno;
    return errno_ == EPIPE || errno_ == ECONNRESET ? Io::kClosed : Io::kError;
  }
  return Io::kOk;
}

GatewayConnection::Io GatewayConnection::ReadMore(Clock::time_point deadline) {
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      return Io::kOk;
    }
    if (n == 0) return Io::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int ready = WaitFor(fd_, POLLIN, deadline);
      if (ready == 0) return Io::kTimeout;
      if (ready < 0) return errno_ = errno, Io::kError;
      continue;
    }
    errno_ = errno;
    return errno_ == ECONNRESET ? Io::kClosed : Io::kError;
  }
}

GatewayConnection::Io GatewayConnection::Need(size_t n, Clock::time_point deadline) {
  while (in_.size() < n) {
    Io io = ReadMore(deadline);
    if (io != Io::kOk) return io;
  }
  return Io::kOk;
}

GatewayConnection::Io GatewayConnection::NeedLine(size_t from, size_t* eol,
                                                  Clock::time_point deadline) {
  for (;;) {
    size_t at = in_.find("\r\n", from);
    if (at != std::string::npos) {
      *eol = at;
      return Io::kOk;
    }
    if (in_.size() - from > kMaxHeaderBytes) return errno_ = EMSGSIZE, Io::kError;
    Io io = ReadMore(deadline);
    if (io != Io::kOk) return io;
  }
}

std::string GatewayConnection::Describe(Io io) {
  last_failure_ = io;
  switch (io) {
    case Io::kOk:
      return "ok";
    case Io::kTimeout:
      return "timed out";
    case Io::kClosed:
      return "connection closed by the server";
    case Io::kError:
      break;
  }
  return std::strerror(errno_);
}

bool GatewayConnection::ReadChunkedBody(size_t pos, Clock::time_point deadline, std::string* body,
                                        std::string* error) {
  for (;;) {
    size_t eol = 0;
    Io io = NeedLine(pos, &eol, deadline);
    if (io != Io::kOk) {
      *error = "chunked body: " + Describe(io);
      return false;
    }
    std::string_view line(in_.data() + pos, eol - pos);
    line = Trim(line.substr(0, line.find(';')));  // chunk extensions are ignored
    size_t size = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (line.empty() || ec != std::errc() || ptr != line.data() + line.size()) {
      *error = "chunked body: bad chunk size";
      return false;
    }
    pos = eol + 2;
    if (size == 0) break;
    if (size > kMaxBodyBytes || body->size() + size > kMaxBodyBytes) {
      *error = "chunked body: too large";
      return false;
    }
    io = Need(pos + size + 2, deadline);
    if (io != Io::kOk) {
      *error = "chunked body: " + Describe(io);
      return false;
    }
    if (in_.compare(pos + size, 2, "\r\n") != 0) {
      *error = "chunked body: missing CRLF after a chunk";
      return false;
    }
    body->append(in_, pos, size);
    pos += size + 2;
  }
  // Trailer fields (etcd sends Grpc-Trailer-Content-Type) up to an empty line.
  for (;;) {
    size_t eol = 0;
    Io io = NeedLine(pos, &eol, deadline);
    if (io != Io::kOk) {
      *error = "chunked trailer: " + Describe(io);
      return false;
    }
    bool empty = eol == pos;
    pos = eol + 2;
    if (empty) break;
  }
  in_.erase(0, pos);
  return true;
}

std::string_view GatewayAnswer::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (IEquals(n, name)) return v;
  }
  return {};
}

bool GatewayConnection::ReadAnswer(Clock::time_point deadline, GatewayAnswer* answer,
                                   bool* close_after, std::string* error) {
  size_t eol = 0;
  Io io = NeedLine(0, &eol, deadline);
  if (io != Io::kOk) {
    *error = "status line: " + Describe(io);
    return false;
  }
  std::string_view status_line(in_.data(), eol);
  int status = 0;
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ' ||
      std::from_chars(status_line.data() + 9, status_line.data() + 12, status).ptr !=
          status_line.data() + 12 ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    *error = fmt::format("bad status line '{}'", status_line.substr(0, 80));
    return false;
  }
  *close_after = status_line.starts_with("HTTP/1.0");
  answer->headers.clear();
  bool chunked = false;
  bool has_length = false;
  size_t length = 0;
  size_t pos = eol + 2;
  for (;;) {
    io = NeedLine(pos, &eol, deadline);
    if (io != Io::kOk) {
      *error = "headers: " + Describe(io);
      return false;
    }
    if (eol == pos) {
      pos += 2;
      break;
    }
    std::string_view line(in_.data() + pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = "malformed header line";
      return false;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    answer->headers.emplace_back(name, value);
    if (IEquals(name, "Content-Length")) {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() ||
          length > kMaxBodyBytes || has_length) {
        *error = "bad Content-Length";
        return false;
      }
      has_length = true;
    } else if (IEquals(name, "Transfer-Encoding")) {
      if (!IEquals(value, "chunked")) {
        *error = fmt::format("unsupported Transfer-Encoding '{}'", value);
        return false;
      }
      chunked = true;
    } else if (IEquals(name, "Connection")) {
      if (IEquals(value, "close")) *close_after = true;
    }
  }
  answer->status = status;
  answer->body.clear();
  if (chunked && has_length) {
    *error = "both Content-Length and chunked";
    return false;
  }
  if (chunked) return ReadChunkedBody(pos, deadline, &answer->body, error);
  if (has_length) {
    io = Need(pos + length, deadline);
    if (io != Io::kOk) {
      *error = "body: " + Describe(io);
      return false;
    }
    answer->body.assign(in_, pos, length);
    in_.erase(0, pos + length);
    return true;
  }
  // Neither: the body runs to the end of the connection.
  for (;;) {
    if (in_.size() - pos > kMaxBodyBytes) {
      *error = "body: too large";
      return false;
    }
    io = ReadMore(deadline);
    if (io == Io::kClosed) break;
    if (io != Io::kOk) {
      *error = "body: " + Describe(io);
      return false;
    }
  }
  answer->body.assign(in_, pos);
  in_.clear();
  *close_after = true;
  return true;
}

bool GatewayConnection::Post(const Endpoint& endpoint, std::string_view path, std::string_view body,
                             Clock::time_point deadline, GatewayAnswer* answer,
                             std::string* error) {
  bool reused = fd_ >= 0 && connected_to_ == endpoint.url;
  if (reused && PeerClosedWhileIdle()) reused = false;
  std::string request = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n{}{}{}\r\n",
      path, endpoint.host, body.size(), bearer_token_.empty() ? "" : "Authorization: Bearer ",
      bearer_token_, bearer_token_.empty() ? "" : "\r\n");
  request.append(body);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!reused || attempt > 0) {
      if (!Connect(endpoint, deadline, error)) return false;
    }
    in_.clear();
    last_failure_ = Io::kOk;
    Io io = SendAll(request, deadline);
    bool close_after = false;
    if (io == Io::kOk && ReadAnswer(deadline, answer, &close_after, error)) {
      if (close_after || !in_.empty()) Close();  // nothing may follow an answer
      return true;
    }
    if (io != Io::kOk) *error = "sending the request: " + Describe(io);
    // A kept-alive connection the server closed before answering: one fresh try.
    bool stale = reused && attempt == 0 && in_.empty() && last_failure_ == Io::kClosed;
    Close();
    if (!stale) {
      *error = fmt::format("{}: {}", endpoint.url, *error);
      return false;
    }
  }
  return false;
}

}  // namespace httpkv::etcd
