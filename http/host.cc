#include "http/host.h"

namespace httpkv::http {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool IsSubDelim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// *( unreserved / pct-encoded / sub-delims / extra ), where extra lists more bytes.
bool IsUriChars(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHexDigit(s[i + 1]) || !IsHexDigit(s[i + 2])) return false;
      i += 2;
    } else if (!IsUnreserved(c) && !IsSubDelim(c) && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// dec-octet: 0-255 without leading zeros.
bool IsDecOctet(std::string_view s) {
  if (s.empty() || s.size() > 3) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  if (s.size() > 1 && s[0] == '0') return false;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v <= 255;
}

bool IsIpv4(std::string_view s) {
  for (int i = 0; i < 3; ++i) {
    const size_t dot = s.find('.');
    if (dot == std::string_view::npos || !IsDecOctet(s.substr(0, dot))) return false;
    s.remove_prefix(dot + 1);
  }
  return IsDecOctet(s);
}

// h16 *( ":" h16 ), the last group possibly an IPv4address (worth two groups); *groups
// gets the count. An empty string is zero groups.
bool CountH16Groups(std::string_view s, bool ipv4_last, int* groups) {
  *groups = 0;
  if (s.empty()) return true;
  while (true) {
    const size_t colon = s.find(':');
    const std::string_view g = s.substr(0, colon);
    if (colon == std::string_view::npos && ipv4_last && IsIpv4(g)) {
      *groups += 2;
      return true;
    }
    if (g.empty() || g.size() > 4) return false;
    for (char c : g) {
      if (!IsHexDigit(c)) return false;
    }
    ++*groups;
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
  }
}

// RFC 3986 IPv6address: eight 16-bit groups, or fewer around one "::".
bool IsIpv6(std::string_view s) {
  const size_t gap = s.find("::");
  int left = 0, right = 0;
  if (gap == std::string_view::npos) return CountH16Groups(s, true, &left) && left == 8;
  return CountH16Groups(s.substr(0, gap), false, &left) &&
         CountH16Groups(s.substr(gap + 2), true, &right) && left + right <= 7;
}

// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
bool IsIpvFuture(std::string_view s) {
  if (s.size() < 4 || (s[0] != 'v' && s[0] != 'V')) return false;
  size_t i = 1;
  while (i < s.size() && IsHexDigit(s[i])) ++i;
  if (i == 1 || i >= s.size() - 1 || s[i] != '.') return false;
  const std::string_view rest = s.substr(i + 1);
  return rest.find('%') == std::string_view::npos && IsUriChars(rest, ":");
}

}  // namespace

ParseResult ParseHost(std::string_view value, HostParts* out) {
  std::string_view host = value;
  size_t host_end = value.size();
  if (!value.empty() && value[0] == '[') {
    host_end = value.find(']');
    if (host_end == std::string_view::npos) return ParseResult::Error(400, "invalid Host: no ']'");
    const std::string_view inner = value.substr(1, host_end - 1);
    if (!IsIpv6(inner) && !IsIpvFuture(inner)) {
      return ParseResult::Error(400, "invalid Host: bad IP literal");
    }
    ++host_end;
    out->form = HostForm::kIpLiteral;
  } else {
    host_end = value.find(':');
    if (host_end == std::string_view::npos) host_end = value.size();
    if (!IsUriChars(value.substr(0, host_end), "")) {
      return ParseResult::Error(400, "invalid Host: bad character in host name");
    }
    out->form = IsIpv4(value.substr(0, host_end)) ? HostForm::kIpv4 : HostForm::kRegName;
  }
  host = value.substr(0, host_end);
  std::string_view rest = value.substr(host_end);
  out->has_port = !rest.empty();
  if (out->has_port) {
    if (rest[0] != ':') return ParseResult::Error(400, "invalid Host: junk after the host");
    rest.remove_prefix(1);
    for (char c : rest) {
      if (!IsDigit(c)) return ParseResult::Error(400, "invalid Host: port is not a number");
    }
  }
  out->host = host;
  out->port = rest;
  return ParseResult::Complete(value.size());
}

size_t SplitHostPath(std::string_view value) {
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::string_view::npos;
  HostParts parts;
  if (ParseHost(value.substr(0, slash), &parts).failed()) return std::string_view::npos;
  // path-abempty = *( "/" segment ), segment = *pchar, pchar adds ':' and '@'.
  if (!IsUriChars(value.substr(slash), ":@/")) return std::string_view::npos;
  return slash;
}

}  // namespace httpkv::http
