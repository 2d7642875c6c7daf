// Incremental, allocation-free HTTP/1.x request parser (RFC 9112).
//
// Usage: call Parse() with all unconsumed bytes starting at the current request; after
// kNeedMore call again with the same bytes plus more (the buffer may have moved: only
// offsets are kept). After kComplete, consume `consumed` bytes and call Reset(). After
// kError, answer `status` and close the connection (framing is no longer trustworthy).
//
// Any split of the input into calls yields the same result as one call. The end of the
// head is searched incrementally (linear even when fed byte by byte); the head is then
// tokenized once. If the body completes in a later call the head is re-tokenized from the
// new span to refill *out (cheap; typical requests complete in one call).
//
// Decisions where the RFC leaves room:
//   - Line endings: CRLF only. Bare LF and bare CR -> 400 everywhere (request line, fields,
//     chunk lines, trailers). Up to kMaxLeadingBlankLines CRLFs before the request line
//     are skipped (and counted in `consumed`).
//   - Request line: single SPs; method is a token ("get" is kOther, server sends 501);
//     target bytes 0x21..0x7E only; "HTTP/1.0" or "HTTP/1.1", other "HTTP/d.d" -> 505,
//     anything else -> 400. Over max_request_line bytes (excluding CRLF) -> 414 as soon
//     as that many bytes arrived without LF. The request line is validated only once the
//     whole head has arrived, so a head-size violation (431) is reported first.
//   - Targets: origin-form, absolute-form (any "scheme://authority", path/query split;
//     empty path reads as "/"), "*" for OPTIONS only, authority-form for CONNECT only.
//   - Fields: token name directly followed by ':' (400 otherwise), obs-fold -> 400, value
//     bytes HTAB/SP/VCHAR/obs-text only. Too many fields or bytes -> 431.
//   - Host: required in HTTP/1.1, at most once, and a valid uri-host [":" port] (host.h)
//     -> else 400. An empty value is allowed only when the target has no authority
//     (origin-form, asterisk-form; RFC 9112 3.2); HTTP/1.0 may omit Host.
//   - Host "uri-host[:port]/path" (the original assignment's client routes this way) on
//     target "/" is no valid Host either, but it is not an error here: the parser
//     completes the request and sets host_path = "/path" (a view into host). The caller
//     decides: answer 400 naming the fix, or serve it as a request for host_path
//     (--compat seed). With any other target that shape is a plain 400.
//   - Content-Length: 1*DIGIT only ("+5", "5,5", "" -> 400). Repeated fields are accepted
//     only when byte-identical; different values -> 400. Values above max_body (including
//     ones that overflow 64 bits) -> 413, decided before any body byte arrives.
//   - Transfer-Encoding: see TransferEncoding in header_rules.h (garbage/unknown/chunked
//     not last -> 400; known but unsupported codings -> 501). With Content-Length -> 400.
//     In HTTP/1.0 -> 400.
//   - No Content-Length/Transfer-Encoding: empty body (never read-until-close).
#pragma once

#include <cstdint>
#include <span>

#include "http/chunked_decoder.h"
#include "http/header_rules.h"
#include "http/request.h"

namespace httpkv::http {

class RequestParser {
 public:
  explicit RequestParser(const Limits* limits) : limits_(limits) { Reset(); }

  ParseResult Parse(std::span<char> data, Request* out);
  // True after a kNeedMore once the head is parsed and only body bytes are missing; *out
  // then holds the head (e.g. to decide on Expect: 100-continue).
  bool headers_complete() const { return phase_ != kHead; }
  void Reset() {
    phase_ = kHead;
    head_end_ = 0;
    scanner_.Reset();
  }

 private:
  enum Phase : uint8_t { kHead, kLengthBody, kChunkedBody };

  ParseResult OnHeadComplete(std::span<char> data, Request* out);
  ParseResult DecodeChunked(std::span<char> data, bool tokenized, Request* out);
  ParseResult Complete(std::span<char> data, bool tokenized, size_t body_end, size_t end,
                       Request* out);

  const Limits* limits_;
  uint32_t head_end_ = 0;  // one past the empty line ending the head
  uint16_t start_ = 0;     // request line offset (<= 2 * kMaxLeadingBlankLines)
  Phase phase_ = kHead;
  union {
    HeadScanner scanner_;      // kHead
    uint64_t content_length_;  // kLengthBody
    ChunkedDecoder chunked_;   // kChunkedBody
  };
};

// Tokenizes and validates a complete head [start, head_end) into *out: kComplete (the
// head's bytes) or an error; *content_length is set when out->has_content_length.
ParseResult ParseRequestHead(std::string_view data, size_t start, size_t head_end,
                             const Limits& limits, Request* out, uint64_t* content_length);

}  // namespace httpkv::http
