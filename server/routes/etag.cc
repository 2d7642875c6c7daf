#include "server/routes/etag.h"

namespace httpkv::server {
namespace {

// Formats the tag into buf (>= 19 bytes) and returns a view of it.
std::string_view EtagInto(uint64_t version, char* buf) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  int n = 0;
  do {
    digits[n++] = kHex[version & 15];
    version >>= 4;
  } while (version);
  size_t len = 0;
  buf[len++] = '"';
  while (n > 0) buf[len++] = digits[--n];
  buf[len++] = '"';
  return {buf, len};
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void FormatEtag(uint64_t version, std::string* out) {
  char buf[20];
  out->assign(EtagInto(version, buf));
}

bool EtagListMatches(std::string_view field, uint64_t version) {
  char buf[20];
  const std::string_view own = EtagInto(version, buf);
  size_t pos = 0;
  while (pos <= field.size()) {
    size_t comma = field.find(',', pos);
    if (comma == std::string_view::npos) comma = field.size();
    std::string_view item = TrimOws(field.substr(pos, comma - pos));
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == own) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace httpkv::server
