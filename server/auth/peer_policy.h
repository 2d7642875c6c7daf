// Protected mode (SPEC "Security"): without --auth-file (and unless --protected-mode
// off) only loopback peers are served: 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104
// (IPv4 loopback seen through a dual-stack socket). Decided once per connection at
// accept; every other peer gets 403 with kProtectedModeBody and the connection closes.
#pragma once

#include <sys/socket.h>

#include <string_view>

namespace httpkv::server {

// True for a loopback address; false for anything else, including non-IP families.
bool IsLoopbackAddress(const sockaddr* sa, socklen_t len);

// The connected socket's peer is loopback (getpeername; false if it cannot be had).
bool PeerIsLoopback(int fd);

inline constexpr std::string_view kProtectedModeBody =
    "protected mode: this server answers only loopback clients; start it with --auth-file "
    "(bearer tokens) or --protected-mode off (a trusted network) to serve others\n";

}  // namespace httpkv::server
