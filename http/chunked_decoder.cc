#include "http/chunked_decoder.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "http/header_rules.h"

namespace httpkv::http {
namespace {

ParseResult::Kind Fail(ParseResult* err, int status, std::string_view reason) {
  err->kind = ParseResult::kError;
  err->status = status;
  err->reason = reason;
  return ParseResult::kError;
}

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

bool ParseChunkSizeLine(std::string_view line, uint64_t* size) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < line.size(); ++i) {
    int h = HexValue(line[i]);
    if (h < 0) break;
    if (i == 16) return false;  // 17+ digits could overflow: refuse
    v = (v << 4) | static_cast<uint64_t>(h);
  }
  if (i == 0) return false;
  std::string_view rest = line.substr(i);
  while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) rest.remove_prefix(1);
  if (rest.size() != line.size() - i && rest.empty()) return false;  // OWS only before ';'
  if (!rest.empty()) {
    if (rest[0] != ';') return false;
    for (char c : rest) {
      if (!IsFieldByte(static_cast<unsigned char>(c))) return false;
    }
  }
  *size = v;
  return true;
}

ParseResult::Kind ChunkedDecoder::SizeLine(std::span<char> data, const Limits& limits,
                                           size_t body_start, ParseResult* err) {
  std::string_view d(data.data(), data.size());
  bool too_long = false;
  const size_t p = FindLineEnd(d, src, &scan, kMaxChunkLine, &too_long);
  if (p == SIZE_MAX) {
    return too_long ? Fail(err, 400, "chunk size line too long") : ParseResult::kNeedMore;
  }
  if (p == src || d[p - 1] != '\r') return Fail(err, 400, "bare LF");
  uint64_t size = 0;
  if (!ParseChunkSizeLine(d.substr(src, p - 1 - src), &size)) {
    return Fail(err, 400, "invalid chunk size line");
  }
  if (size > limits.max_body - std::min<uint64_t>(limits.max_body, dst - body_start)) {
    return Fail(err, 413, "chunked body too large");
  }
  src = p + 1;
  scan = 0;
  left = size;
  state = size == 0 ? kTrailer : kData;
  return ParseResult::kNeedMore;
}

ParseResult::Kind ChunkedDecoder::TrailerLine(std::span<char> data, const Limits& limits,
                                              ParseResult* err) {
  std::string_view d(data.data(), data.size());
  const size_t budget = std::min<size_t>(limits.max_header_bytes, size_t{1} << 30);
  if (trailer_bytes + 2 > budget) return Fail(err, 431, "trailer section too large");
  bool too_long = false;
  const size_t p = FindLineEnd(d, src, &scan, budget - trailer_bytes - 2, &too_long);
  if (p == SIZE_MAX) {
    return too_long ? Fail(err, 431, "trailer section too large") : ParseResult::kNeedMore;
  }
  if (p == src || d[p - 1] != '\r') return Fail(err, 400, "bare LF");
  if (p == src + 1) {  // empty line: end of message
    src = p + 1;
    return ParseResult::kComplete;
  }
  Header h;
  if (const char* reason = ParseFieldLine(d.substr(src, p + 1 - src), &h)) {
    return Fail(err, 400, reason);
  }
  if (++left > limits.max_headers) return Fail(err, 431, "too many trailer fields");
  trailer_bytes += static_cast<uint32_t>(p + 1 - src);
  src = p + 1;
  scan = 0;
  return ParseResult::kNeedMore;
}

ParseResult::Kind ChunkedDecoder::Decode(std::span<char> data, const Limits& limits,
                                         size_t body_start, ParseResult* err) {
  const size_t n = data.size();
  while (true) {
    ParseResult::Kind k = ParseResult::kNeedMore;
    switch (state) {
      case kSize:
        k = SizeLine(data, limits, body_start, err);
        if (k != ParseResult::kNeedMore || state == kSize) return k;
        break;
      case kData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left, n - src));
        if (take > 0) std::memmove(data.data() + dst, data.data() + src, take);
        src += take;
        dst += take;
        left -= take;
        if (left > 0) return ParseResult::kNeedMore;
        state = kDataCr;
        break;
      }
      case kDataCr:
      case kDataLf:
        if (src >= n) return ParseResult::kNeedMore;
        if (data[src] != (state == kDataCr ? '\r' : '\n')) {
          return Fail(err, 400, "missing CRLF after chunk data");
        }
        ++src;
        state = state == kDataCr ? kDataLf : kSize;
        break;
      case kTrailer: {
        const uint64_t before = src;
        k = TrailerLine(data, limits, err);
        if (k != ParseResult::kNeedMore || src == before) return k;
        break;
      }
    }
  }
}

}  // namespace httpkv::http
