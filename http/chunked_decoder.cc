#include "http/chunked_decoder.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "http/header_rules.h"

namespace httpkv::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Finds the LF ending the line that starts at `from`, searching from from+*scan but not
// past from+max_len+2. Returns its offset, or SIZE_MAX (need more; *too_long if over).
size_t FindLineEnd(std::string_view d, size_t from, uint32_t* scan, size_t max_len,
                   bool* too_long) {
  const size_t bound = from + max_len + 2;
  const size_t end = std::min(d.size(), bound);
  const size_t pos = from + *scan;
  const void* lf = pos < end ? std::memchr(d.data() + pos, '\n', end - pos) : nullptr;
  if (lf == nullptr) {
    *too_long = d.size() >= bound;
    *scan = static_cast<uint32_t>(std::max(end, pos) - from);
    return SIZE_MAX;
  }
  return static_cast<const char*>(lf) - d.data();
}

}  // namespace

namespace {

size_t SkipBws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

size_t SkipToken(std::string_view s, size_t i) {
  while (i < s.size() && IsTchar(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// quoted-string starting at s[i] == '"'; returns one past the closing quote, or npos.
size_t SkipQuotedString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (++i == s.size() || !IsFieldByte(static_cast<unsigned char>(s[i]))) break;
    } else if (!IsFieldByte(c)) {
      break;  // qdtext: HTAB, SP, VCHAR but '"' and '\', obs-text
    }
  }
  return std::string_view::npos;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
bool IsChunkExt(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    i = SkipBws(s, i);
    if (i == s.size() || s[i] != ';') return false;
    i = SkipBws(s, i + 1);
    const size_t name = i;
    i = SkipToken(s, i);
    if (i == name) return false;  // chunk-ext-name = token (1*tchar)
    const size_t after_name = i;
    i = SkipBws(s, i);
    if (i == s.size() || s[i] != '=') {
      i = after_name;  // no value: BWS may only precede the next ';'
      continue;
    }
    i = SkipBws(s, i + 1);
    if (i < s.size() && s[i] == '"') {
      i = SkipQuotedString(s, i);
      if (i == std::string_view::npos) return false;
    } else {
      const size_t value = i;
      i = SkipToken(s, i);
      if (i == value) return false;
    }
  }
  return true;
}

}  // namespace

ParseResult ParseChunkSizeLine(std::string_view line, uint64_t* size) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < line.size(); ++i) {
    int h = HexValue(line[i]);
    if (h < 0) break;
    if (i == 16) return ParseResult::Error(400, "chunk size too large");  // could overflow
    v = (v << 4) | static_cast<uint64_t>(h);
  }
  if (i == 0) return ParseResult::Error(400, "invalid chunk size");
  if (!IsChunkExt(line.substr(i))) return ParseResult::Error(400, "invalid chunk extension");
  *size = v;
  return ParseResult::Complete(line.size());
}

ParseResult ChunkedDecoder::SizeLine(std::span<char> data, const Limits& limits,
                                     size_t body_start) {
  std::string_view d(data.data(), data.size());
  bool too_long = false;
  const size_t p = FindLineEnd(d, src, &scan, kMaxChunkLine, &too_long);
  if (p == SIZE_MAX) {
    return too_long ? ParseResult::Error(400, "chunk size line too long") : ParseResult::NeedMore();
  }
  if (p == src || d[p - 1] != '\r') return ParseResult::Error(400, "bare LF");
  uint64_t size = 0;
  if (ParseResult r = ParseChunkSizeLine(d.substr(src, p - 1 - src), &size); r.failed()) return r;
  if (size > limits.max_body - std::min<uint64_t>(limits.max_body, dst - body_start)) {
    return ParseResult::Error(413, "chunked body too large");
  }
  src = p + 1;
  scan = 0;
  left = size;
  state = size == 0 ? kTrailer : kData;
  return ParseResult::NeedMore();
}

ParseResult ChunkedDecoder::TrailerLine(std::span<char> data, const Limits& limits) {
  std::string_view d(data.data(), data.size());
  const size_t budget = std::min<size_t>(limits.max_header_bytes, size_t{1} << 30);
  if (trailer_bytes + 2 > budget) return ParseResult::Error(431, "trailer section too large");
  bool too_long = false;
  const size_t p = FindLineEnd(d, src, &scan, budget - trailer_bytes - 2, &too_long);
  if (p == SIZE_MAX) {
    return too_long ? ParseResult::Error(431, "trailer section too large")
                    : ParseResult::NeedMore();
  }
  if (p == src || d[p - 1] != '\r') return ParseResult::Error(400, "bare LF");
  if (p == src + 1) {  // empty line: end of message
    src = p + 1;
    return ParseResult::Complete(src);
  }
  Header h;
  if (ParseResult r = ParseFieldLine(d.substr(src, p + 1 - src), &h); r.failed()) return r;
  if (++left > limits.max_headers) return ParseResult::Error(431, "too many trailer fields");
  trailer_bytes += static_cast<uint32_t>(p + 1 - src);
  src = p + 1;
  scan = 0;
  return ParseResult::NeedMore();
}

ParseResult ChunkedDecoder::Decode(std::span<char> data, const Limits& limits, size_t body_start) {
  const size_t n = data.size();
  while (true) {
    switch (state) {
      case kSize: {
        ParseResult r = SizeLine(data, limits, body_start);
        if (r.kind != ParseResult::kNeedMore || state == kSize) return r;
        break;
      }
      case kData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left, n - src));
        if (take > 0) std::memmove(data.data() + dst, data.data() + src, take);
        src += take;
        dst += take;
        left -= take;
        if (left > 0) return ParseResult::NeedMore();
        state = kDataCr;
        break;
      }
      case kDataCr:
      case kDataLf:
        if (src >= n) return ParseResult::NeedMore();
        if (data[src] != (state == kDataCr ? '\r' : '\n')) {
          return ParseResult::Error(400, "missing CRLF after chunk data");
        }
        ++src;
        state = state == kDataCr ? kDataLf : kSize;
        break;
      case kTrailer: {
        const uint64_t before = src;
        ParseResult r = TrailerLine(data, limits);
        if (r.kind != ParseResult::kNeedMore || src == before) return r;
        break;
      }
    }
  }
}

}  // namespace httpkv::http
