// `httpkv watch [--prefix P] [--since SEQ]`: follows the change feed and prints each event
// as it arrives, exactly as the server sends it (SSE: "id:", "event:", "data:" lines and a
// blank line; heartbeat comments are not printed, the closing comment is — on stderr).
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "reactor/inet_address.h"

namespace httpkv::client {

struct WatchOptions {
  std::optional<std::string> prefix;
  std::optional<uint64_t> since;
};

// Runs until the server ends the stream (0 when it closed it cleanly after a comment, 3 on
// an I/O error or a malformed stream) or answers with an error status (1, e.g. 410 with the
// horizon on stderr).
int RunWatch(const reactor::InetAddress& address, const std::string& host, const WatchOptions& opts,
             std::ostream& out, std::ostream& err);

}  // namespace httpkv::client
