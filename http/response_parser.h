// Incremental, allocation-free HTTP/1.x response parser for the client and load generator.
//
// Same contract as RequestParser: call again with the same bytes plus more after
// kNeedMore; any split gives the same result; chunked bodies are decoded in place; only
// offsets are kept between calls. Every error has status 502 (invalid upstream response).
//
// Framing (RFC 9112 6.3): HEAD answers, 1xx, 204 and 304 have no body (a 100 Continue is
// returned as its own kComplete response; the caller skips it). Otherwise
// Transfer-Encoding ending in exactly "chunked" -> chunked; Transfer-Encoding of known
// codings without chunked -> read until close; Content-Length -> that many bytes; neither
// -> read until close (kNeedMore until ParseAtEof). Being a strict client, it rejects both
// Content-Length and Transfer-Encoding, differing Content-Lengths, bare LF/CR, obs-fold.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/chunked_decoder.h"
#include "http/header_rules.h"
#include "http/request.h"

namespace httpkv::http {

struct Response {
  int status = 0;
  int minor_version = 1;
  std::string_view reason;
  std::array<Header, kHeaderCapacity> headers;
  size_t num_headers = 0;
  std::string_view body;
  bool keep_alive = false;

  std::string_view Find(std::string_view name) const {
    return FindHeader(headers.data(), num_headers, name);
  }
};

// Defaults for responses: request-style head limits, bodies up to 1 GiB.
const Limits& DefaultResponseLimits();

class ResponseParser {
 public:
  ResponseParser() : ResponseParser(&DefaultResponseLimits()) {}
  explicit ResponseParser(const Limits* limits) : limits_(limits) { Reset(); }

  // head_request: the request was HEAD (no body whatever Content-Length says).
  ParseResult Parse(std::span<char> data, bool head_request, Response* out);
  // The peer closed: completes a read-until-close body; anything incomplete is kError.
  ParseResult ParseAtEof(std::span<char> data, bool head_request, Response* out);
  void Reset() {
    phase_ = kHead;
    head_end_ = 0;
    scanner_.Reset();
  }

 private:
  enum Phase : uint8_t { kHead, kLengthBody, kChunkedBody, kUntilClose };

  ParseResult OnHeadComplete(std::span<char> data, bool head_request, Response* out);
  ParseResult DecodeChunked(std::span<char> data, bool head_request, bool tokenized, Response* out);
  ParseResult Complete(std::span<char> data, bool head_request, bool tokenized, size_t body_end,
                       size_t end, Response* out);

  const Limits* limits_;
  uint32_t head_end_ = 0;
  uint16_t start_ = 0;  // status line offset (after skipped blank lines)
  Phase phase_ = kHead;
  union {
    HeadScanner scanner_;
    uint64_t content_length_;
    ChunkedDecoder chunked_;
  };
};

}  // namespace httpkv::http
