#include "reactor/inet_address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>

namespace httpkv::reactor {

std::optional<InetAddress> InetAddress::Parse(std::string_view host_port, std::string* error) {
  std::string_view host, port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      *error = "expected [IPV6]:PORT, got '" + std::string(host_port) + "'";
      return std::nullopt;
    }
    host = host_port.substr(1, close - 1);
    port_text = host_port.substr(close + 2);
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
      *error = "expected HOST:PORT, got '" + std::string(host_port) + "'";
      return std::nullopt;
    }
    host = host_port.substr(0, colon);
    port_text = host_port.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    *error = "invalid port '" + std::string(port_text) + "' (expected 0-65535)";
    return std::nullopt;
  }
  if (host.empty()) host = "0.0.0.0";

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string host_str(host);
  int rc = ::getaddrinfo(host_str.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve host '" + host_str + "': " + ::gai_strerror(rc);
    return std::nullopt;
  }
  InetAddress addr = FromSockaddr(res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  return addr;
}

InetAddress InetAddress::FromSockaddr(const sockaddr* sa, socklen_t len) {
  InetAddress a;
  if (len > sizeof a.storage_) len = sizeof a.storage_;
  std::memcpy(&a.storage_, sa, len);
  a.length_ = len;
  return a;
}

std::optional<InetAddress> InetAddress::LocalOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

uint16_t InetAddress::port() const {
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
}

void InetAddress::set_port(uint16_t port) {
  if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  }
}

std::string InetAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(port());
}

}  // namespace httpkv::reactor
