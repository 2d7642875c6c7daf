// An etcd client URL, parsed and checked: the JSON gateway is reached over loopback HTTP.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace httpkv::etcd {

// A parsed "http://127.0.0.1:2379" endpoint. Loopback HTTP only: 127.0.0.0/8, localhost
// or [::1]; no path (a trailing '/' is allowed), no https.
struct Endpoint {
  std::string url;   // normalised: "http://host:port"
  std::string host;  // for the Host header: "127.0.0.1:2379"
  sockaddr_storage addr{};
  socklen_t addr_len = 0;

  static bool Parse(std::string_view url, Endpoint* out, std::string* error);
};

}  // namespace httpkv::etcd
