#include "server/etcd/endpoint.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace httpkv::etcd {
namespace {

bool ParsePort(std::string_view s, uint16_t* port) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v == 0 || v > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

bool Endpoint::Parse(std::string_view url, Endpoint* out, std::string* error) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    *error = fmt::format("etcd endpoint '{}': https is not supported (loopback http only)", url);
    return false;
  }
  if (!rest.starts_with("http://")) {
    *error = fmt::format("etcd endpoint '{}': expected http://host:port", url);
    return false;
  }
  rest.remove_prefix(7);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    *error = fmt::format("etcd endpoint '{}': no path allowed", url);
    return false;
  }
  std::string_view host;
  std::string_view port_text;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      *error = fmt::format("etcd endpoint '{}': expected [::1]:port", url);
      return false;
    }
    host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      *error = fmt::format("etcd endpoint '{}': missing port", url);
      return false;
    }
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  uint16_t port = 0;
  if (!ParsePort(port_text, &port)) {
    *error = fmt::format("etcd endpoint '{}': bad port '{}'", url, port_text);
    return false;
  }
  Endpoint e;
  std::string host_str(host == "localhost" ? "127.0.0.1" : host);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host_str.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) {
      *error = fmt::format("etcd endpoint '{}': only loopback addresses are allowed", url);
      return false;
    }
    auto* sin = reinterpret_cast<sockaddr_in*>(&e.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    e.addr_len = sizeof(sockaddr_in);
    e.host = fmt::format("{}:{}", host_str, port);
  } else if (::inet_pton(AF_INET6, host_str.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) != 0) {
      *error = fmt::format("etcd endpoint '{}': only loopback addresses are allowed", url);
      return false;
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = v6;
    e.addr_len = sizeof(sockaddr_in6);
    e.host = fmt::format("[::1]:{}", port);
  } else {
    *error = fmt::format("etcd endpoint '{}': host must be a loopback IP or localhost", url);
    return false;
  }
  e.url = "http://" + e.host;
  *out = std::move(e);
  return true;
}

}  // namespace httpkv::etcd
