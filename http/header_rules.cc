#include "http/header_rules.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace httpkv::http {
namespace {

constexpr std::array<bool, 256> MakeTcharTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> MakeFieldTable() {
  std::array<bool, 256> t{};
  t['\t'] = true;
  for (int c = 0x20; c < 0x7f; ++c) t[c] = true;
  for (int c = 0x80; c < 0x100; ++c) t[c] = true;  // obs-text: opaque, allowed
  return t;
}
constexpr std::array<bool, 256> kTchar = MakeTcharTable();
constexpr std::array<bool, 256> kFieldByte = MakeFieldTable();

// Keeps offset arithmetic far from overflow whatever the caller configured.
constexpr size_t kMaxConfigurableHead = size_t{1} << 30;

bool IsOws(char c) {
  return c == ' ' || c == '\t';
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

char ToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Calls fn(element) for each OWS-trimmed element of a comma-separated list.
template <typename Fn>
void ForEachListElement(std::string_view list, Fn fn) {
  while (true) {
    size_t comma = list.find(',');
    fn(TrimOws(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

bool IsTchar(unsigned char c) {
  return kTchar[c];
}
bool IsFieldByte(unsigned char c) {
  return kFieldByte[c];
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

std::string_view FindHeader(const Header* headers, size_t n, std::string_view name) {
  for (size_t i = 0; i < n; ++i) {
    if (EqualsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

ParseResult HeadScanner::Scan(std::string_view d, const Limits& limits, int first_line_status) {
  const size_t n = d.size();
  if (!started) {
    size_t p = start;
    while (p < n && (d[p] == '\r' || d[p] == '\n')) {
      if (d[p] == '\n') return ParseResult::Error(400, "bare LF");
      if (p + 1 >= n) break;
      if (d[p + 1] != '\n') return ParseResult::Error(400, "bare CR");
      if (p / 2 >= kMaxLeadingBlankLines)
        return ParseResult::Error(400, "too many leading blank lines");
      p += 2;
    }
    start = static_cast<uint32_t>(p);
    if (p >= n || d[p] == '\r') return ParseResult::NeedMore();
    started = 1;
    scan = line_start = start;
  }
  if (line_end == 0) {
    // The start line (without CRLF) may be max_request_line bytes: LF lies before `bound`.
    const size_t bound = start + std::min(limits.max_request_line, kMaxConfigurableHead) + 2;
    const size_t end = std::min(n, bound);
    const void* lf = std::memchr(d.data() + scan, '\n', end - scan);
    if (lf == nullptr) {
      if (n >= bound) {
        return ParseResult::Error(first_line_status, first_line_status == 414
                                                         ? "request line too long"
                                                         : "status line too long");
      }
      scan = static_cast<uint32_t>(end);
      return ParseResult::NeedMore();
    }
    const size_t p = static_cast<const char*>(lf) - d.data();
    if (d[p - 1] != '\r') return ParseResult::Error(400, "bare LF");
    line_end = line_start = scan = static_cast<uint32_t>(p + 1);
  }
  const size_t bound = line_end + std::min(limits.max_header_bytes, kMaxConfigurableHead);
  const size_t end = std::min(n, bound);
  while (true) {
    const void* lf = std::memchr(d.data() + scan, '\n', end - scan);
    if (lf == nullptr) {
      if (n >= bound) return ParseResult::Error(431, "header section too large");
      scan = static_cast<uint32_t>(end);
      return ParseResult::NeedMore();
    }
    const size_t p = static_cast<const char*>(lf) - d.data();
    if (p == line_start || d[p - 1] != '\r') return ParseResult::Error(400, "bare LF");
    scan = static_cast<uint32_t>(p + 1);
    if (p == line_start + 1u) {  // the empty line ends the head
      return ParseResult::Complete(p + 1);
    }
    line_start = scan;
  }
}

namespace {

// True if any of the 8 bytes is a CTL (< 0x20, incl. HTAB) or DEL: exact bit tricks.
bool HasCtlOrDel(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  const uint64_t x = w ^ (kOnes * 0x7f);
  const uint64_t del = (x - kOnes) & ~x & kHigh;
  return (below_space | del) != 0;
}

// Skips field-value bytes 8 at a time; stops at the first other byte (CR at the latest).
const char* SkipFieldBytes(const char* p, const char* end) {
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (HasCtlOrDel(w)) break;
    p += 8;
  }
  while (p < end && kFieldByte[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

// Parses the field line at p; [p, end) ends with '\n' and every LF in it follows a CR, so
// the byte scans below stop before `end` without bounds checks. kComplete: the line's
// bytes, CRLF included.
ParseResult ParseFieldAt(const char* p, const char* end, Header* h) {
  const char* const line = p;
  const char* const name = p;
  auto bad = [](std::string_view reason) { return ParseResult::Error(400, reason); };
  if (IsOws(*p)) return bad("obsolete line folding");
  while (kTchar[static_cast<unsigned char>(*p)]) ++p;
  if (*p != ':') {
    if (*p == '\r') return bad("field line without colon");
    if (p == name) return bad("invalid field name");
    return bad(IsOws(*p) ? "whitespace before colon" : "invalid character in field name");
  }
  if (p == name) return bad("empty field name");
  h->name = std::string_view(name, static_cast<size_t>(p - name));
  const char* const value = ++p;
  p = SkipFieldBytes(p, end);
  if (*p != '\r' || end - p < 2 || p[1] != '\n') return bad("invalid character in field value");
  h->value = TrimOws(std::string_view(value, static_cast<size_t>(p - value)));
  return ParseResult::Complete(static_cast<size_t>(p + 2 - line));
}

}  // namespace

ParseResult ParseFieldLine(std::string_view line, Header* h) {
  if (line.size() < 2 || line.back() != '\n')
    return ParseResult::Error(400, "field line without CRLF");
  const ParseResult r = ParseFieldAt(line.data(), line.data() + line.size(), h);
  if (!r.failed() && r.consumed != line.size()) return ParseResult::Error(400, "bare LF");
  return r;
}

ParseResult ParseFields(std::string_view block, Header* headers, size_t max_headers,
                        size_t* count) {
  max_headers = std::min(max_headers, kHeaderCapacity);
  const char* p = block.data();
  const char* const end = p + block.size();
  size_t n = 0;
  while (p < end) {
    if (n == max_headers) return ParseResult::Error(431, "too many header fields");
    const ParseResult r = ParseFieldAt(p, end, &headers[n]);
    if (r.failed()) return r;
    p += r.consumed;
    ++n;
  }
  *count = n;
  return ParseResult::Complete(block.size());
}

ParseResult ParseContentLength(std::string_view v, uint64_t* out) {
  const ParseResult invalid = ParseResult::Error(400, "invalid Content-Length");
  if (v.empty()) return invalid;
  uint64_t x = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return invalid;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    x = (x > (UINT64_MAX - d) / 10) ? UINT64_MAX : x * 10 + d;
  }
  *out = x;
  return ParseResult::Complete(v.size());
}

bool TokenListContains(std::string_view list, std::string_view token) {
  bool found = false;
  ForEachListElement(list,
                     [&](std::string_view e) { found = found || EqualsIgnoreCase(e, token); });
  return found;
}

// Contains "chunk" in any case: a near miss that a lenient peer might take for chunked.
static bool LooksLikeChunked(std::string_view name) {
  for (size_t i = 0; i + 5 <= name.size(); ++i) {
    if (EqualsIgnoreCase(name.substr(i, 5), "chunk")) return true;
  }
  return false;
}

void TransferEncoding::Add(std::string_view value) {
  present = true;
  ForEachListElement(value, [this](std::string_view e) {
    size_t semi = e.find(';');
    std::string_view name = TrimOws(e.substr(0, semi));
    bool token = !name.empty();
    for (char c : name) token = token && kTchar[static_cast<unsigned char>(c)];
    if (!token) {  // NOLINT(bugprone-branch-clone): the branches below give other reasons
      garbage = true;
    } else if (EqualsIgnoreCase(name, "chunked")) {
      if (semi != std::string_view::npos) garbage = true;  // chunked takes no parameters
      if (chunked_count < 2) ++chunked_count;              // saturate: 2 means "more than once"
      chunked_last = true;
    } else if (LooksLikeChunked(name)) {
      garbage = true;  // "xchunked", "chunk": someone else may read it as chunked
    } else {
      // A coding we do not implement (known or not): RFC 9112 6.1 says 501.
      other_coding = true;
      chunked_last = false;
    }
  });
}

ParseResult TransferEncoding::Verdict() const {
  if (garbage) return ParseResult::Error(400, "invalid Transfer-Encoding");
  if (chunked_count > 1) return ParseResult::Error(400, "chunked applied more than once");
  if (chunked_count == 1 && !chunked_last) {
    return ParseResult::Error(400, "chunked is not the final transfer coding");
  }
  if (other_coding) return ParseResult::Error(501, "unsupported transfer coding");
  return ParseResult::Complete(0);
}

}  // namespace httpkv::http
