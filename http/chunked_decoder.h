// Incremental, in-place decoder for the chunked transfer coding (RFC 9112 7.1).
//
// Decoded bytes are compacted towards the front of the body region (decoded data is never
// longer than its encoding, so the write position never passes the read position). Only
// offsets are kept between calls, so the caller's buffer may move or grow.
//
// Strictness: chunk-size is 1..16 hex digits (no "0x"); chunk extensions are ignored but
// must match RFC 9112 7.1.1 exactly: *( BWS ";" BWS token [ BWS "=" BWS ( token /
// quoted-string ) ] ), so "5;" (no name), "5;a=" (no value), "5;a b" and a trailing BWS
// are 400; every line ends in CRLF
// (bare LF / bare CR -> 400); trailer fields follow the header rules and are dropped;
// trailer bytes/fields count against max_header_bytes/max_headers (431).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "http/request.h"

namespace httpkv::http {

inline constexpr size_t kMaxChunkLine = 4096;  // size + extensions, excluding CRLF

// Trivial so it can live in a union with the head scanner's state.
struct ChunkedDecoder {
  enum State : uint8_t { kSize, kData, kDataCr, kDataLf, kTrailer };

  uint64_t src;            // next encoded byte
  uint64_t dst;            // one past the last decoded byte
  uint64_t left;           // kData: bytes left in this chunk; kTrailer: fields seen
  uint32_t scan;           // kSize/kTrailer: bytes of the current line already searched
  uint32_t trailer_bytes;  // trailer section bytes before the current line
  State state;

  void Start(size_t body_start) {
    *this = ChunkedDecoder{};
    src = dst = body_start;
  }
  // kComplete: body is [body_start, dst), the message ends at src (== consumed).
  ParseResult Decode(std::span<char> data, const Limits& limits, size_t body_start);

 private:
  // kNeedMore after a whole line too: Decode loops while the state moves on.
  ParseResult SizeLine(std::span<char> data, const Limits& limits, size_t body_start);
  ParseResult TrailerLine(std::span<char> data, const Limits& limits);
};

// Parses a chunk-size line without its CRLF: chunk-size [ chunk-ext ] (RFC 9112 7.1,
// 7.1.1), into *size. kComplete (the line's bytes) or 400.
ParseResult ParseChunkSizeLine(std::string_view line, uint64_t* size);

}  // namespace httpkv::http
