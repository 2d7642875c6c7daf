// InetAddress: an IPv4/IPv6 socket address parsed from "HOST:PORT" ("[::1]:80" for v6).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace httpkv::reactor {

class InetAddress {
 public:
  InetAddress() = default;
  // Resolves numerically or through getaddrinfo (start-up only: may block on DNS).
  // Returns nullopt and fills *error with a one-line reason on failure.
  static std::optional<InetAddress> Parse(std::string_view host_port, std::string* error);
  static InetAddress FromSockaddr(const sockaddr* sa, socklen_t len);
  // The local address a bound socket ended up on (resolves port 0).
  static std::optional<InetAddress> LocalOf(int fd);

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  std::string ToString() const;  // "127.0.0.1:8080" or "[::1]:8080"

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace httpkv::reactor
