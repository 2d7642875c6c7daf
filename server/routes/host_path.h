// The original assignment's client (SPEC "The original client") routes through the Host
// header: "POST / HTTP/1.1" with "Host: 127.0.0.1/create". The parser reports that shape
// in Request::host_path (http/request_parser.h); this decides what the server does with it.
#pragma once

#include <string>

#include "http/request.h"

namespace httpkv::server {

// Without --compat seed: the one-line 400 reason naming the fix, e.g.
//   Host header holds a path ("127.0.0.1/create"): put the path in the request line:
//   POST /create HTTP/1.1 with Host: 127.0.0.1
std::string HostPathReason(const http::Request& req);

// With --compat seed: serves the request as one for host_path with Host = the host part
// ("127.0.0.1/create" on "/" becomes "/create" with Host "127.0.0.1").
void RewriteHostPath(http::Request* req);

}  // namespace httpkv::server
