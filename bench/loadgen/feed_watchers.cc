#include "bench/loadgen/feed_watchers.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "bench/loadgen/stats.h"
#include "bench/loadgen/worker.h"

namespace httpkv::bench {

bool FeedWatchers::Start(std::string* error) {
  const std::string req = "GET /kv/?watch=1 HTTP/1.1\r\nHost: " + opt_.target + "\r\n\r\n";
  conns_.resize(static_cast<size_t>(opt_.watchers));
  for (Conn& c : conns_) {
    c.fd = ::socket(opt_.addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{10, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (c.fd < 0 || ::connect(c.fd, opt_.addr.sockaddr_ptr(), opt_.addr.length()) != 0 ||
        ::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      *error = std::string("watcher connect: ") + std::strerror(errno);
      return false;
    }
  }
  // Blocking reads of each head (the server answers at once).
  for (Conn& c : conns_) {
    char buf[4096];
    while (c.carry.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n <= 0) {
        *error = "watcher: no answer head";
        return false;
      }
      c.carry.append(buf, static_cast<size_t>(n));
    }
    if (c.carry.compare(0, 12, "HTTP/1.1 200") != 0) {
      *error = "watcher: " + c.carry.substr(0, c.carry.find("\r\n"));
      return false;
    }
    c.carry.erase(0, c.carry.find("\r\n\r\n") + 4);
    ++result_.watchers;
  }
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < conns_.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, conns_[i].fd, &ev);
  }
  thread_ = std::thread([this] { Loop(); });
  return true;
}

void FeedWatchers::Stop() {
  if (thread_.joinable()) {
    stop_.store(true);
    thread_.join();
  }
  for (Conn& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
}

void FeedWatchers::Loop() {
  std::vector<epoll_event> evs(256);
  char buf[65536];
  while (!stop_.load(std::memory_order_relaxed)) {
    const int n = ::epoll_wait(epfd_, evs.data(), static_cast<int>(evs.size()), 50);
    const int64_t now = NowNs();
    if (reset_.exchange(false, std::memory_order_acq_rel)) {
      result_.events = 0;
      result_.latency.Reset();
    }
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[evs[i].data.u64];
      const ssize_t got = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
        ++result_.closed;
        continue;
      }
      c.carry.append(buf, static_cast<size_t>(got));
      Scan(c, now);
    }
  }
}

// Finds complete "id: N" lines (chunk framing lines are hex sizes; event lines start after
// a newline), records each event and keeps the unscanned tail.
void FeedWatchers::Scan(Conn& c, int64_t now) {
  size_t pos = 0, keep = 0;
  while ((pos = c.carry.find("\nid: ", pos)) != std::string::npos) {
    const size_t end = c.carry.find('\n', pos + 5);
    if (end == std::string::npos) break;
    const uint64_t seq = std::strtoull(c.carry.c_str() + pos + 5, nullptr, 10);
    ++result_.events;
    const int64_t ack = acks_->Find(seq);
    result_.latency.Record(ack >= 0 && now > ack ? static_cast<uint64_t>(now - ack) : 0);
    pos = keep = end;
  }
  // Keep from the last newline so a line split across reads is found next time.
  const size_t last_nl = c.carry.rfind('\n');
  c.carry.erase(0, std::max(keep, last_nl == std::string::npos ? 0 : last_nl));
}

}  // namespace httpkv::bench
