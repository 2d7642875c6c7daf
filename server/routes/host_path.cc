#include "server/routes/host_path.h"

#include <fmt/format.h>

namespace httpkv::server {
namespace {

std::string_view HostPart(const http::Request& req) {
  return req.host.substr(0, req.host.size() - req.host_path.size());
}

}  // namespace

std::string HostPathReason(const http::Request& req) {
  // host and host_path hold URI characters only (validated): safe in a one-line body.
  return fmt::format(
      "Host header holds a path (\"{}\"): put the path in the request line: {} {} HTTP/1.{} "
      "with Host: {}",
      req.host, req.method_name, req.host_path, req.minor_version, HostPart(req));
}

void RewriteHostPath(http::Request* req) {
  req->host = HostPart(*req);
  req->path = req->target = req->host_path;  // the target "/" had no query
  req->host_path = {};
}

}  // namespace httpkv::server
