// Field syntax shared by the request and response parsers (RFC 9110 5, RFC 9112 5).
//
// Line endings: only CRLF. A bare LF or a bare CR anywhere in a head, a chunk line or a
// trailer is rejected (400) rather than tolerated: lenient line splitting is the classic
// request-smuggling lever when a proxy in front splits differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/request.h"

namespace httpkv::http {

bool IsTchar(unsigned char c);
// Field value byte: HTAB, SP, VCHAR, obs-text. Excludes NUL, CR, LF, other CTLs and DEL.
bool IsFieldByte(unsigned char c);

// Blank lines (CRLF) tolerated before a start line (RFC 9112 2.2), bounded.
inline constexpr size_t kMaxLeadingBlankLines = 8;

// Incrementally finds the end of a head (start line + fields + empty line) without
// rescanning: it remembers how far it searched. Keeps offsets only, never pointers.
// All offsets fit in 32 bits because the head is bounded by the limits.
struct HeadScanner {
  uint32_t start;       // first byte of the start line (after blank lines)
  uint32_t line_end;    // one past the start line's LF; 0 while unknown
  uint32_t line_start;  // start of the field line being searched
  uint32_t scan;        // bytes already searched for LF
  uint8_t started;      // blank-line skipping finished

  void Reset() { *this = HeadScanner{}; }
  // kComplete: `consumed` is the head's end (one past the empty line's LF, counted from
  // the start of data). first_line_status: 414 for a request line, 502 for a status line.
  ParseResult Scan(std::string_view data, const Limits& limits, int first_line_status);
};

// Parses one field line (ending in CRLF) into *h: kComplete (the line's bytes) or 400.
ParseResult ParseFieldLine(std::string_view line, Header* h);

// Splits a header block into field lines; each line ends with CRLF (checked by the
// scanner). Fills headers (up to max) and *count: kComplete (the block's bytes), 400 or 431.
ParseResult ParseFields(std::string_view block, Header* headers, size_t max_headers, size_t* count);

// 1*DIGIT into *out: kComplete or 400. Saturates at UINT64_MAX on overflow (always "too
// large" for the caller).
ParseResult ParseContentLength(std::string_view v, uint64_t* out);

// True if the comma-separated token list contains `token` (case-insensitive).
bool TokenListContains(std::string_view list, std::string_view token);

// Accumulates Transfer-Encoding field values (several fields form one list).
// Decisions (RFC 9112 6.1/6.3):
//   - syntax garbage (empty element, non-token, "chunked;x") or a look-alike
//     containing "chunk" ("xchunked", "chunkedx", "chunk")                      -> 400
//   - "chunked" not last, or more than once                                      -> 400
//   - any other coding (gzip, deflate, identity, or unknown like "foo") with
//     chunked last but other codings before it, or no chunked at all           -> 501
//   - exactly "chunked"                                                          -> chunked
struct TransferEncoding {
  bool present = false;
  bool chunked_last = false;
  uint8_t chunked_count = 0;
  bool other_coding = false;  // a known coding besides chunked
  bool garbage = false;

  void Add(std::string_view value);
  // kComplete (nothing consumed) if the body is plain chunked, else a 400 or 501 error.
  ParseResult Verdict() const;
};

}  // namespace httpkv::http
