#include "http/percent.h"

namespace httpkv::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsPchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':  // unreserved
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':  // sub-delims
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
      return true;
    default:
      return false;
  }
}

}  // namespace

ParseResult PercentDecode(std::string_view in, std::string* out) {
  // Most keys carry no escape: one memchr and one copy instead of a byte-by-byte append.
  const size_t first = in.find('%');
  if (first == std::string_view::npos) {
    out->assign(in);
    return ParseResult::Complete(in.size());
  }
  out->assign(in.substr(0, first));
  for (size_t i = first; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return ParseResult::Error(400, "truncated percent-escape");
    const int hi = HexDigit(in[i + 1]);
    const int lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return ParseResult::Error(400, "invalid percent-escape");
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return ParseResult::Complete(in.size());
}

void PercentEncodePath(std::string_view in, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->clear();
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsPchar(c)) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

}  // namespace httpkv::http
