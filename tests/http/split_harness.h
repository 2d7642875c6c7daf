// Test helper: parses an input whole, at every 2-way split and byte by byte, each run on a
// fresh copy (chunked decoding mutates the input) held in an exactly-sized heap block that
// moves between calls, so ASan catches over-reads and stale pointers.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/request_parser.h"
#include "http/response_parser.h"

namespace httpkv::http::testing {

struct Outcome {
  ParseResult::Kind kind = ParseResult::kNeedMore;
  int status = 0;
  size_t consumed = 0;
  std::string method, target, path, query, host, host_path, body, reason;
  int minor = -1;
  bool keep_alive = false, expect_continue = false, headers_complete = false;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{kind=" << int(o.kind) << " status=" << o.status << " consumed=" << o.consumed
            << " reason=" << o.reason << " target=" << o.target << " body=" << o.body.size()
            << "B headers=" << o.headers.size() << "}";
}

template <typename Msg>
std::vector<std::pair<std::string, std::string>> CopyHeaders(const Msg& m) {
  std::vector<std::pair<std::string, std::string>> v;
  for (size_t i = 0; i < m.num_headers; ++i) {
    v.emplace_back(std::string(m.headers[i].name), std::string(m.headers[i].value));
  }
  return v;
}

inline Outcome Snapshot(const ParseResult& r, const Request& q, bool headers_complete) {
  Outcome o;
  o.kind = r.kind;
  o.status = r.status;
  o.consumed = r.consumed;
  o.reason = std::string(r.reason);
  o.headers_complete = headers_complete;
  if (r.kind != ParseResult::kComplete) return o;
  o.method = q.method_name;
  o.target = q.target;
  o.path = q.path;
  o.query = q.query;
  o.host = q.host;
  o.host_path = q.host_path;
  o.body = q.body;
  o.minor = q.minor_version;
  o.keep_alive = q.keep_alive;
  o.expect_continue = q.expect_continue;
  o.headers = CopyHeaders(q);
  return o;
}

inline Outcome Snapshot(const ParseResult& r, const Response& q) {
  Outcome o;
  o.kind = r.kind;
  o.status = r.kind == ParseResult::kComplete ? q.status : r.status;
  o.consumed = r.consumed;
  o.reason = std::string(r.kind == ParseResult::kComplete ? q.reason : r.reason);
  if (r.kind != ParseResult::kComplete) return o;
  o.body = q.body;
  o.minor = q.minor_version;
  o.keep_alive = q.keep_alive;
  o.headers = CopyHeaders(q);
  return o;
}

// Feeds prefixes ending at each cut, then the whole input (then EOF if at_eof).
template <typename Fn>
Outcome FeedWithCuts(const std::string& input, const std::vector<size_t>& cuts, Fn parse) {
  std::string buf = input;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  Outcome o;
  for (size_t i = 0; i < ends.size(); ++i) {
    std::unique_ptr<char[]> block(new char[ends[i] + 1]);  // +1: never zero-sized
    std::copy(buf.begin(), buf.begin() + ends[i], block.get());
    bool last = i + 1 == ends.size();
    bool done = parse(std::span<char>(block.get(), ends[i]), last, &o);
    std::copy(block.get(), block.get() + ends[i], buf.begin());  // keep in-place decoding
    if (done) break;
  }
  return o;
}

inline Outcome ParseRequestCuts(const std::string& input, const std::vector<size_t>& cuts,
                                const Limits& limits) {
  RequestParser parser(&limits);
  Request req;
  return FeedWithCuts(input, cuts, [&](std::span<char> s, bool, Outcome* o) {
    ParseResult r = parser.Parse(s, &req);
    *o = Snapshot(r, req, parser.headers_complete());
    return r.kind != ParseResult::kNeedMore;
  });
}

inline Outcome ParseResponseCuts(const std::string& input, const std::vector<size_t>& cuts,
                                 bool head_request, bool at_eof) {
  ResponseParser parser;
  Response resp;
  return FeedWithCuts(input, cuts, [&](std::span<char> s, bool last, Outcome* o) {
    ParseResult r = last && at_eof ? parser.ParseAtEof(s, head_request, &resp)
                                   : parser.Parse(s, head_request, &resp);
    *o = Snapshot(r, resp);
    return r.kind != ParseResult::kNeedMore;
  });
}

// Whole, every 2-way split, and byte by byte must agree. Returns the whole-input outcome.
// Inputs over 4 KiB (limit tests) use strided split points to keep the test fast.
template <typename ParseCuts>
Outcome ExpectSplitProof(const std::string& input, ParseCuts parse_cuts) {
  const size_t split_stride = input.size() > 4096 ? input.size() / 64 : 1;
  const size_t byte_stride = input.size() > 4096 ? input.size() / 2048 : 1;
  Outcome whole = parse_cuts(input, {});
  for (size_t k = 1; k < input.size(); k += split_stride) {
    Outcome split = parse_cuts(input, {k});
    if (!(split == whole)) {
      ADD_FAILURE() << "split at " << k << ": " << split << " vs whole " << whole;
      return whole;
    }
  }
  std::vector<size_t> bytes;
  for (size_t k = 1; k < input.size(); k += byte_stride) bytes.push_back(k);
  EXPECT_EQ(parse_cuts(input, bytes), whole) << "byte by byte";
  return whole;
}

inline Outcome RequestSplitProof(const std::string& input, const Limits& limits = Limits{}) {
  return ExpectSplitProof(input, [&](const std::string& in, const std::vector<size_t>& cuts) {
    return ParseRequestCuts(in, cuts, limits);
  });
}

inline Outcome ResponseSplitProof(const std::string& input, bool head_request = false,
                                  bool at_eof = false) {
  return ExpectSplitProof(input, [&](const std::string& in, const std::vector<size_t>& cuts) {
    return ParseResponseCuts(in, cuts, head_request, at_eof);
  });
}

}  // namespace httpkv::http::testing
