// libFuzzer target: differential split-invariance of RequestParser and ResponseParser.
//
// Input layout: two control bytes, then the wire data.
//   byte 0 bits 0-1: limits (0 default, 1 tiny, 2 tiny body only, 3 tiny head only)
//   byte 0 bit 2:    parse responses instead of requests
//   byte 0 bit 3:    responses answer a HEAD request
//   byte 1:          seed for the random split points
// The data is parsed as a pipelined stream (complete -> consume -> Reset -> continue,
// until an error or the end) three ways: whole, in random pieces (each call on a fresh
// exactly-sized heap copy, so the buffer moves and ASan sees over-reads) and one byte per
// call. Every completed message and the final state must be identical; any difference
// aborts. Views must point into the caller's buffer, and errors use documented statuses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.h"
#include "http/response_parser.h"

namespace {

using httpkv::http::Limits;
using httpkv::http::ParseResult;
using httpkv::http::Request;
using httpkv::http::RequestParser;
using httpkv::http::Response;
using httpkv::http::ResponseParser;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_parser: %s\n", what);
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

// A view must be empty or lie inside [base, base + size).
void CheckInside(std::string_view v, const char* base, size_t size, const char* what) {
  if (v.empty()) return;
  Check(v.data() >= base && v.data() + v.size() <= base + size, what);
}

// Appends a length-prefixed field so that records compare unambiguously.
void Put(std::string* rec, std::string_view v) {
  rec->append(std::to_string(v.size())).append(":").append(v).append("|");
}

void PutNum(std::string* rec, uint64_t v) {
  rec->append(std::to_string(v)).append("|");
}

Limits MakeLimits(uint8_t variant) {
  Limits l;
  if (variant == 1 || variant == 3) {
    l.max_request_line = 48;
    l.max_header_bytes = 160;
    l.max_headers = 4;
  }
  if (variant == 1 || variant == 2) l.max_body = 24;
  return l;
}

struct Config {
  Limits limits;
  bool response = false;
  bool head_request = false;
};

// Parses `data` fed in pieces ending at `ends` (strictly increasing, last == size).
// fresh_copies: each call sees a new exactly-sized heap block holding the bytes so far.
class Runner {
 public:
  explicit Runner(const Config& cfg)
      : cfg_(cfg), req_parser_(&cfg_.limits), resp_parser_(&cfg_.limits) {}

  std::string Run(std::string_view data, const std::vector<size_t>& ends, bool fresh_copies) {
    std::string log;
    std::string buf;  // unconsumed bytes (decoded in place by chunked bodies)
    size_t fed = 0;
    for (size_t end : ends) {
      buf.append(data.substr(fed, end - fed));
      fed = end;
      if (!Drain(&buf, fresh_copies, false, &log)) return log;
    }
    if (cfg_.response && !buf.empty()) Drain(&buf, fresh_copies, true, &log);
    log.append("end:");
    PutNum(&log, buf.size());
    if (!cfg_.response) PutNum(&log, req_parser_.headers_complete());
    return log;
  }

 private:
  // Parses complete messages out of *buf. False once an error was recorded.
  bool Drain(std::string* buf, bool fresh_copies, bool at_eof, std::string* log) {
    for (;;) {
      std::unique_ptr<char[]> block;
      char* base = buf->data();
      if (fresh_copies) {
        block.reset(new char[buf->size() + 1]);
        std::memcpy(block.get(), buf->data(), buf->size());
        base = block.get();
      }
      const std::span<char> span(base, buf->size());
      ParseResult r = cfg_.response ? ParseResponse(span, at_eof, log) : ParseRequest(span, log);
      if (fresh_copies) std::memcpy(buf->data(), block.get(), buf->size());
      if (r.kind == ParseResult::kError) {
        log->append("error:");
        PutNum(log, static_cast<uint64_t>(r.status));
        Put(log, r.reason);
        return false;
      }
      if (r.kind == ParseResult::kNeedMore) return true;
      Check(r.consumed > 0 && r.consumed <= buf->size(), "consumed out of range");
      PutNum(log, r.consumed);
      buf->erase(0, r.consumed);
      if (cfg_.response) {
        resp_parser_.Reset();
      } else {
        req_parser_.Reset();
      }
      if (at_eof && buf->empty()) return true;
    }
  }

  ParseResult ParseRequest(std::span<char> span, std::string* log) {
    ParseResult r = req_parser_.Parse(span, &req_);
    const char* b = span.data();
    const size_t n = span.size();
    if (r.kind == ParseResult::kError) {
      const int s = r.status;
      Check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505,
            "undocumented request error status");
      Check(!r.reason.empty(), "error without reason");
      return r;
    }
    if (r.kind != ParseResult::kComplete) return r;
    Check(req_.body.size() <= cfg_.limits.max_body, "body over max_body");
    Check(req_.num_headers <= cfg_.limits.max_headers, "too many headers");
    CheckInside(req_.method_name, b, n, "method outside buffer");
    CheckInside(req_.target, b, n, "target outside buffer");
    CheckInside(req_.query, b, n, "query outside buffer");
    CheckInside(req_.host, b, n, "host outside buffer");
    CheckInside(req_.host_path, b, n, "host path outside buffer");
    Check(req_.host_path.empty() || req_.target == "/", "host path on a target other than /");
    CheckInside(req_.body, b, n, "body outside buffer");
    if (req_.path != "/") CheckInside(req_.path, b, n, "path outside buffer");
    log->append("req:");
    Put(log, req_.method_name);
    PutNum(log, static_cast<uint64_t>(req_.method));
    Put(log, req_.target);
    Put(log, req_.path);
    Put(log, req_.query);
    Put(log, req_.host);
    Put(log, req_.host_path);
    PutNum(log, static_cast<uint64_t>(req_.minor_version));
    PutNum(log, req_.keep_alive);
    PutNum(log, req_.expect_continue);
    PutNum(log, req_.has_content_length);
    PutNum(log, req_.chunked);
    PutNum(log, req_.num_headers);
    for (size_t i = 0; i < req_.num_headers; ++i) {
      CheckInside(req_.headers[i].name, b, n, "header name outside buffer");
      CheckInside(req_.headers[i].value, b, n, "header value outside buffer");
      Put(log, req_.headers[i].name);
      Put(log, req_.headers[i].value);
    }
    Put(log, req_.body);
    return r;
  }

  ParseResult ParseResponse(std::span<char> span, bool at_eof, std::string* log) {
    ParseResult r = at_eof ? resp_parser_.ParseAtEof(span, cfg_.head_request, &resp_)
                           : resp_parser_.Parse(span, cfg_.head_request, &resp_);
    const char* b = span.data();
    const size_t n = span.size();
    if (r.kind == ParseResult::kError) {
      Check(r.status == 502, "response error is not 502");
      return r;
    }
    if (r.kind != ParseResult::kComplete) return r;
    Check(resp_.status >= 100 && resp_.status <= 599, "status out of range");
    CheckInside(resp_.reason, b, n, "reason outside buffer");
    CheckInside(resp_.body, b, n, "body outside buffer");
    log->append("resp:");
    PutNum(log, static_cast<uint64_t>(resp_.status));
    PutNum(log, static_cast<uint64_t>(resp_.minor_version));
    Put(log, resp_.reason);
    PutNum(log, resp_.keep_alive);
    PutNum(log, resp_.num_headers);
    for (size_t i = 0; i < resp_.num_headers; ++i) {
      CheckInside(resp_.headers[i].name, b, n, "header name outside buffer");
      CheckInside(resp_.headers[i].value, b, n, "header value outside buffer");
      Put(log, resp_.headers[i].name);
      Put(log, resp_.headers[i].value);
    }
    Put(log, resp_.body);
    return r;
  }

  Config cfg_;
  RequestParser req_parser_;
  ResponseParser resp_parser_;
  Request req_;
  Response resp_;
};

// Small deterministic PRNG (splitmix64) so a crash input reproduces exactly.
uint64_t Next(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void Compare(const std::string& whole, const std::string& other, const char* how) {
  if (whole == other) return;
  std::fprintf(stderr, "whole: %s\n%s: %s\n", whole.c_str(), how, other.c_str());
  Fail("split-dependent parse result");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* raw, size_t size) {
  if (size < 2) return 0;
  Config cfg;
  cfg.limits = MakeLimits(raw[0] & 3);
  cfg.response = (raw[0] & 4) != 0;
  cfg.head_request = (raw[0] & 8) != 0;
  uint64_t seed = raw[1];
  const std::string_view data(reinterpret_cast<const char*>(raw) + 2, size - 2);

  const std::string whole = Runner(cfg).Run(data, {data.size()}, true);

  // Random pieces: mostly short ones around the interesting boundaries, some long.
  std::vector<size_t> ends;
  for (size_t pos = 0; pos < data.size();) {
    const uint64_t r = Next(&seed);
    const size_t step = (r & 3) == 0 ? 1 + (r >> 8) % 256 : 1 + (r >> 8) % 8;
    pos = std::min(data.size(), pos + step);
    ends.push_back(pos);
  }
  if (ends.empty()) ends.push_back(0);
  Compare(whole, Runner(cfg).Run(data, ends, true), "random splits");

  // One byte per call (in place: the head scan must stay linear, so this is cheap).
  std::vector<size_t> bytes;
  for (size_t pos = 1; pos <= data.size(); ++pos) bytes.push_back(pos);
  if (bytes.empty()) bytes.push_back(0);
  Compare(whole, Runner(cfg).Run(data, bytes, false), "byte by byte");
  return 0;
}
