#include "tools/client/watch.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "tools/client/http_client.h"

namespace httpkv::client {
namespace {

class Stream {
 public:
  explicit Stream(int fd) : fd_(fd) {}
  ~Stream() { ::close(fd_); }
  // Appends what the socket has; false on EOF or error.
  bool Fill() {
    char buf[16384];
    ssize_t n;
    do {
      n = ::recv(fd_, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    raw.append(buf, static_cast<size_t>(n));
    return true;
  }
  std::string raw;

 private:
  int fd_;
};

std::string_view HeaderOf(std::string_view head, std::string_view name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const size_t end = head.find("\r\n", pos + 2);
    const std::string_view line = head.substr(pos + 2, end - pos - 2);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    }
    pos = end;
  }
  return {};
}

}  // namespace

int RunWatch(const reactor::InetAddress& address, const std::string& host, const WatchOptions& opts,
             std::ostream& out, std::ostream& err) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, address.sockaddr_ptr(), address.length()) != 0) {
    err << "httpkv: cannot connect to " << host << ": " << std::strerror(errno) << "\n";
    if (fd >= 0) ::close(fd);
    return 3;
  }
  Stream s(fd);
  std::string target = "/kv/?watch=1";
  if (opts.prefix) target += "&prefix=" + PercentEncodeQueryValue(*opts.prefix);
  if (opts.since) target += "&since=" + std::to_string(*opts.since);
  const std::string req = SerializeRequest(MakeRequest("GET", target), host);
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    err << "httpkv: " << host << ": send failed\n";
    return 3;
  }
  size_t end;
  while ((end = s.raw.find("\r\n\r\n")) == std::string::npos) {
    if (!s.Fill()) {
      err << "httpkv: " << host << ": connection closed before an answer\n";
      return 3;
    }
  }
  const std::string head = s.raw.substr(0, end + 2);
  s.raw.erase(0, end + 4);
  const int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
  if (status != 200) {
    err << "httpkv: " << head.substr(9, head.find("\r\n") - 9);
    if (std::string_view h = HeaderOf(head, "X-Seq-Horizon"); !h.empty()) {
      err << " (X-Seq-Horizon: " << h << ")";
    }
    err << "\n";
    return 1;
  }
  // Chunked text/event-stream: print whole events as they complete.
  std::string text;
  for (;;) {
    size_t crlf;
    while ((crlf = s.raw.find("\r\n")) == std::string::npos) {
      if (!s.Fill()) return 3;  // ended without the last chunk
    }
    const size_t len = std::strtoul(s.raw.c_str(), nullptr, 16);
    if (len == 0) return 0;
    while (s.raw.size() < crlf + 2 + len + 2) {
      if (!s.Fill()) return 3;
    }
    text.append(s.raw, crlf + 2, len);
    s.raw.erase(0, crlf + 2 + len + 2);
    size_t block_end;
    while ((block_end = text.find("\n\n")) != std::string::npos) {
      const std::string_view block(text.data(), block_end + 2);
      if (block.starts_with(": ")) {
        if (block != ": keepalive\n\n")
          err << "httpkv: " << block.substr(2, block.size() - 4) << "\n";
      } else {
        out << block;
        out.flush();
      }
      text.erase(0, block_end + 2);
    }
  }
}

}  // namespace httpkv::client
