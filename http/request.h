// Parsed HTTP/1.x request and the limits applied while parsing it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/method.h"

namespace httpkv::http {

struct Header {
  std::string_view name;
  std::string_view value;  // surrounding OWS trimmed
};

inline constexpr size_t kHeaderCapacity = 128;

struct Limits {
  size_t max_request_line = 8 * 1024;   // longer -> 414 (excluding CRLF)
  size_t max_header_bytes = 64 * 1024;  // header section after the request line, incl. CRLFs -> 431
  size_t max_headers = 100;             // more fields -> 431 (clamped to kHeaderCapacity)
  uint64_t max_body = 1 << 20;          // Content-Length or decoded chunked size larger -> 413
};

// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// First header named `name` (case-insensitive); empty if none.
std::string_view FindHeader(const Header* headers, size_t n, std::string_view name);

// All views point into the caller's input bytes; valid until those bytes are consumed.
struct Request {
  Method method = Method::kOther;
  std::string_view method_name;
  std::string_view target;  // raw request-target
  std::string_view path;    // raw (percent-encoded) path; "/p" for "http://h/p?q"; "*" for "*"
  std::string_view query;   // after '?', without it; empty if none
  int minor_version = 1;    // 0 or 1
  std::array<Header, kHeaderCapacity> headers;
  size_t num_headers = 0;
  std::string_view host;  // Host header value (for absolute-form: still the Host header)
  // "/create" for "Host: 127.0.0.1/create" on target "/" (see request_parser.h): the
  // caller must reject or rewrite a request with a non-empty host_path.
  std::string_view host_path;
  std::string_view body;  // Content-Length body or the de-chunked body (decoded in place)
  bool keep_alive = true;
  bool expect_continue = false;     // "Expect: 100-continue" (HTTP/1.1 only)
  bool has_content_length = false;  // framing seen, e.g. for a 411 policy on PUT/POST
  bool chunked = false;
  bool target_has_authority = false;  // absolute-form or authority-form

  std::string_view Find(std::string_view name) const {
    return FindHeader(headers.data(), num_headers, name);
  }
};

// The one error convention of http/: every parsing or validation step returns a
// ParseResult. kComplete: the step succeeded; `consumed` is the bytes it covered (the
// message length for the parsers, 0 for a check that covers no bytes). kNeedMore: call
// again with more bytes. kError: `status` and a one-line `reason`; nothing else is valid.
struct ParseResult {
  enum Kind : uint8_t { kComplete, kNeedMore, kError } kind = kNeedMore;
  size_t consumed = 0;      // kComplete: bytes of this message (caller consumes them)
  int status = 0;           // kError: 400/413/414/431/501/505 (requests), 502 (responses)
  std::string_view reason;  // kError: one-line reason, static storage

  static ParseResult Complete(size_t consumed) {
    ParseResult r;
    r.kind = kComplete;
    r.consumed = consumed;
    return r;
  }
  static ParseResult NeedMore() { return ParseResult{}; }
  static ParseResult Error(int status, std::string_view reason) {
    ParseResult r;
    r.kind = kError;
    r.status = status;
    r.reason = reason;
    return r;
  }
  bool failed() const { return kind == kError; }
};

}  // namespace httpkv::http
