// Host field values (RFC 9112 3.2): Host = uri-host [ ":" port ], with uri-host from
// RFC 3986 3.2.2 (IP-literal, IPv4address or reg-name) and port = *DIGIT.
//
// Decisions where the RFCs leave room:
//   - An empty value is valid syntax (reg-name may be empty); whether it is allowed
//     depends on the request target, which the request parser decides.
//   - An empty port ("x:") is valid (port = *DIGIT); so is a long one: no range check,
//     the Host value only names the target, it is never connected to.
//   - IPv6 zone identifiers ("[fe80::1%25eth0]", RFC 6874) are not accepted.
//   - `uri-host [":" port] "/" path` (the original assignment's client sends
//     "127.0.0.1/create") is not a Host value; SplitHostPath recognises the shape so the
//     caller can name the fix (or serve it, --compat seed).
#pragma once

#include <string_view>

#include "http/request.h"

namespace httpkv::http {

enum class HostForm : uint8_t { kIpLiteral, kIpv4, kRegName };

struct HostParts {
  HostForm form = HostForm::kRegName;
  std::string_view host;  // uri-host ("[::1]" keeps its brackets)
  std::string_view port;  // digits after ':'; empty if none or empty
  bool has_port = false;  // a ':' followed the host (maybe with an empty port)
};

// Parses a Host field value into *out: kComplete (the value's bytes) or 400.
ParseResult ParseHost(std::string_view value, HostParts* out);

// For a value that is a valid uri-host [":" port] followed by "/" and path characters
// (path-abempty, RFC 3986 3.3), the offset of that '/'; npos for any other value.
size_t SplitHostPath(std::string_view value);

}  // namespace httpkv::http
