#include "cluster/routes.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "reactor/inet_address.h"

namespace httpkv::cluster {
namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, MsLeft(deadline));
  } while (r < 0 && errno == EINTR);
  return r == 1;
}

bool ConnectBy(int fd, const reactor::InetAddress& a, Clock::time_point deadline) {
  if (::connect(fd, a.sockaddr_ptr(), a.length()) == 0) return true;
  if (errno != EINPROGRESS || !WaitFor(fd, POLLOUT, deadline)) return false;
  int err = 0;
  socklen_t len = sizeof err;
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

// Reads until the status line is complete: its code, or -1.
int ReadStatus(int fd, Clock::time_point deadline) {
  std::string got;
  while (got.find("\r\n") == std::string::npos && got.size() < 4096) {
    if (!WaitFor(fd, POLLIN, deadline)) return -1;
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0 && !(n < 0 && errno == EINTR)) return -1;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  if (got.size() < 12 || !got.starts_with("HTTP/1.")) return -1;
  return std::atoi(got.c_str() + 9);
}

}  // namespace

int ProbeStatus(const std::string& addr, const std::string& path,
                std::chrono::milliseconds timeout) {
  std::string error;
  const std::optional<reactor::InetAddress> a = reactor::InetAddress::Parse(addr, &error);
  if (!a) return -1;
  const int fd = ::socket(a->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + addr +
                          "\r\nConnection: close\r\nUser-Agent: httpkv/0.1\r\n\r\n";
  int status = -1;
  if (ConnectBy(fd, *a, deadline) && WaitFor(fd, POLLOUT, deadline) &&
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    status = ReadStatus(fd, deadline);
  }
  ::close(fd);
  return status;
}

bool Routes::Load(const std::string& path, std::chrono::milliseconds timeout, std::string* error) {
  ClusterMap m;
  if (!ClusterMap::Load(path, &m, error)) return false;
  std::vector<std::string> address;
  for (const Owner& o : m.owners()) {
    std::string a = m.replicated() ? FindPrimary(o) : o.members.front().addr;
    // No primary right now (an election): the first member; its 421/503 starts a retry.
    address.push_back(a.empty() ? o.members.front().addr : a);
  }
  std::lock_guard<std::mutex> lock(mu_);
  path_ = path;
  timeout_ = timeout;
  owners_ = m.owners();
  map_ = std::move(m);
  address_ = std::move(address);
  refreshed_.assign(address_.size(), Clock::time_point{});
  return true;
}

std::string Routes::AddressOf(size_t owner) const {
  std::lock_guard<std::mutex> lock(mu_);
  return address_[owner];
}

void Routes::SetPrimary(size_t owner, const std::string& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  address_[owner] = addr;
  refreshed_[owner] = Clock::now();
}

std::string Routes::Refresh(size_t owner) {
  std::unique_lock<std::mutex> lock(mu_);
  const Clock::time_point now = Clock::now();
  if (now - refreshed_[owner] < kRefreshGap) return address_[owner];
  refreshed_[owner] = now;
  ClusterMap m;
  std::string error;
  // Same owners in FILE: take its members' addresses (a restarted node may have moved).
  if (ClusterMap::Load(path_, &m, &error) && m.placement().names() == map_.placement().names())
    owners_[owner] = m.owners()[owner];
  const Owner o = owners_[owner];
  lock.unlock();  // the probes block: other owners' look-ups go on meanwhile
  std::string a = map_.replicated() ? FindPrimary(o) : o.members.front().addr;
  lock.lock();
  if (!a.empty()) address_[owner] = a;
  return address_[owner];
}

std::string Routes::FindPrimary(const Owner& owner) const {
  for (const Member& m : owner.members) {
    if (ProbeStatus(m.addr, "/primary", timeout_) == 200) return m.addr;
  }
  return "";
}

}  // namespace httpkv::cluster
