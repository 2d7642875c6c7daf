// Valid requests: request line forms, headers, keep-alive rules, pipelining, limits.
#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/http/split_harness.h"

namespace httpkv::http {
namespace {

using testing::Outcome;
using testing::RequestSplitProof;

TEST(RequestParser, SimpleGet) {
  std::string in = "GET /kv/a%20b?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  Limits limits;
  RequestParser p(&limits);
  Request r;
  ParseResult res = p.Parse(std::span<char>(in.data(), in.size()), &r);
  ASSERT_EQ(res.kind, ParseResult::kComplete);
  EXPECT_EQ(res.consumed, in.size());
  EXPECT_EQ(r.method, Method::kGet);
  EXPECT_EQ(r.method_name, "GET");
  EXPECT_EQ(r.target, "/kv/a%20b?x=1&y");
  EXPECT_EQ(r.path, "/kv/a%20b");
  EXPECT_EQ(r.query, "x=1&y");
  EXPECT_EQ(r.minor_version, 1);
  ASSERT_EQ(r.num_headers, 2u);
  EXPECT_EQ(r.headers[1].name, "Accept");
  EXPECT_EQ(r.headers[1].value, "*/*");
  EXPECT_EQ(r.host, "example.com");
  EXPECT_EQ(r.Find("HOST"), "example.com");
  EXPECT_EQ(r.Find("missing"), "");
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.expect_continue);
  EXPECT_FALSE(p.headers_complete());
  RequestSplitProof(in);
}

TEST(RequestParser, KnownAndOtherMethods) {
  const std::pair<const char*, Method> cases[] = {
      {"GET", Method::kGet},       {"HEAD", Method::kHead},     {"POST", Method::kPost},
      {"PUT", Method::kPut},       {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
      {"PATCH", Method::kOther},   {"get", Method::kOther},     {"BREW", Method::kOther},
      {"M-SEARCH", Method::kOther}};
  for (const auto& [name, method] : cases) {
    std::string in = std::string(name) + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    Limits limits;
    RequestParser p(&limits);
    Request r;
    ASSERT_EQ(p.Parse(std::span<char>(in.data(), in.size()), &r).kind, ParseResult::kComplete)
        << name;
    EXPECT_EQ(r.method, method) << name;
    EXPECT_EQ(r.method_name, name);
  }
}

TEST(RequestParser, PostWithContentLength) {
  Outcome o =
      RequestSplitProof("POST /create HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nkey:value");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "key:value");
  EXPECT_EQ(o.consumed, 62u);
  EXPECT_TRUE(o.headers_complete);
}

TEST(RequestParser, OwsTrimmedAndEmptyValue) {
  Outcome o = RequestSplitProof("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t\r\nX-E:\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  ASSERT_EQ(o.headers.size(), 3u);
  EXPECT_EQ(o.headers[1].second, "a b");
  EXPECT_EQ(o.headers[2].second, "");
  EXPECT_EQ(o.host, "h");
}

TEST(RequestParser, ObsTextAllowedInValues) {
  Outcome o = RequestSplitProof("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.headers[1].second, "caf\xc3\xa9");
}

TEST(RequestParser, AbsoluteForm) {
  Outcome o = RequestSplitProof("GET http://example.com:8080/kv/k?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.target, "http://example.com:8080/kv/k?x=1");
  EXPECT_EQ(o.path, "/kv/k");
  EXPECT_EQ(o.query, "x=1");
  o = RequestSplitProof("GET http://example.com HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.path, "/");
  EXPECT_EQ(o.query, "");
  o = RequestSplitProof("GET https://example.com?q HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.path, "/");
  EXPECT_EQ(o.query, "q");
}

TEST(RequestParser, AsteriskFormOnlyForOptions) {
  Outcome o = RequestSplitProof("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.path, "*");
  o = RequestSplitProof("GET * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.kind, ParseResult::kError);
  EXPECT_EQ(o.status, 400);
}

TEST(RequestParser, KeepAliveRules) {
  struct Case {
    const char* version;
    const char* connection;  // nullptr: no header
    bool keep_alive;
  } cases[] = {
      {"1.1", nullptr, true},
      {"1.1", "close", false},
      {"1.1", "Keep-Alive", true},
      {"1.1", "foo, CLOSE", false},
      {"1.0", nullptr, false},
      {"1.0", "keep-alive", true},
      {"1.0", "Upgrade, KEEP-ALIVE", true},
      {"1.0", "keep-alive, close", false},
      {"1.0", "keep-alivex", false},
  };
  for (const Case& c : cases) {
    std::string in = std::string("GET / HTTP/") + c.version + "\r\nHost: h\r\n";
    if (c.connection) in += std::string("Connection: ") + c.connection + "\r\n";
    in += "\r\n";
    Outcome o = RequestSplitProof(in);
    ASSERT_EQ(o.kind, ParseResult::kComplete) << in;
    EXPECT_EQ(o.keep_alive, c.keep_alive) << in;
    EXPECT_EQ(o.minor, c.version[2] - '0');
  }
}

TEST(RequestParser, Http10WithoutHost) {
  Outcome o = RequestSplitProof("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.host, "");
}

TEST(RequestParser, ExpectContinue) {
  std::string in =
      "PUT /kv/a HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  Limits limits;
  RequestParser p(&limits);
  Request r;
  ParseResult res = p.Parse(std::span<char>(in.data(), in.size()), &r);
  EXPECT_EQ(res.kind, ParseResult::kNeedMore);
  EXPECT_TRUE(p.headers_complete());
  EXPECT_TRUE(r.expect_continue);
  EXPECT_EQ(r.path, "/kv/a");
  in += "abc";
  Request other;  // the scratch Request may be reused by another connection meanwhile
  res = p.Parse(std::span<char>(in.data(), in.size()), &other);
  ASSERT_EQ(res.kind, ParseResult::kComplete);
  EXPECT_EQ(other.body, "abc");
  EXPECT_EQ(other.path, "/kv/a");
  EXPECT_TRUE(other.expect_continue);
  Outcome o = RequestSplitProof("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_FALSE(o.expect_continue);  // HTTP/1.1 only
}

TEST(RequestParser, Pipelined) {
  std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string second = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi";
  std::string in = first + second + "GET /c";
  Outcome o = RequestSplitProof(in);
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.consumed, first.size());
  EXPECT_EQ(o.target, "/a");

  Limits limits;
  RequestParser p(&limits);
  Request r;
  ParseResult res = p.Parse(std::span<char>(in.data(), in.size()), &r);
  ASSERT_EQ(res.consumed, first.size());
  p.Reset();
  std::span<char> rest(in.data() + res.consumed, in.size() - res.consumed);
  res = p.Parse(rest, &r);
  ASSERT_EQ(res.kind, ParseResult::kComplete);
  EXPECT_EQ(res.consumed, second.size());
  EXPECT_EQ(r.body, "hi");
  p.Reset();
  EXPECT_EQ(p.Parse(rest.subspan(res.consumed), &r).kind, ParseResult::kNeedMore);
}

TEST(RequestParser, LeadingBlankLinesSkippedAndBounded) {
  Outcome o = RequestSplitProof("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.consumed, 4u + 27u);
  std::string many;
  for (size_t i = 0; i <= kMaxLeadingBlankLines; ++i) many += "\r\n";
  o = RequestSplitProof(many + "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(o.status, 400);
}

TEST(RequestParser, IncompleteStaysNeedMore) {
  Outcome o = RequestSplitProof("GET / HTTP/1.1\r\nHost: h\r\n");
  EXPECT_EQ(o.kind, ParseResult::kNeedMore);
  o = RequestSplitProof("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(o.kind, ParseResult::kNeedMore);
  EXPECT_TRUE(o.headers_complete);
}

TEST(RequestParser, LimitsAtTheBoundary) {
  Limits limits;
  limits.max_request_line = 64;
  limits.max_header_bytes = 64;
  limits.max_headers = 3;
  std::string line = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";  // exactly 64 bytes
  ASSERT_EQ(line.size(), 64u);
  std::string fields = "Host: h\r\nX: " + std::string(64 - 9 - 5 - 2, 'v') + "\r\n\r\n";
  ASSERT_EQ(fields.size(), 64u);
  Outcome o = RequestSplitProof(line + "\r\n" + fields, limits);
  EXPECT_EQ(o.kind, ParseResult::kComplete);
  line.insert(5, "a");
  EXPECT_EQ(RequestSplitProof(line + "\r\n" + fields, limits).status, 414);
  fields.insert(12, "v");
  EXPECT_EQ(RequestSplitProof("GET / HTTP/1.1\r\n" + fields, limits).status, 431);
  o = RequestSplitProof("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits);
  EXPECT_EQ(o.kind, ParseResult::kComplete);
  o = RequestSplitProof("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  EXPECT_EQ(o.status, 431);
}

TEST(RequestParser, OversizedHeadRejectedBeforeItEnds) {
  Limits limits;
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(70 * 1024, 'a');
  RequestParser p(&limits);
  Request r;
  ParseResult res = p.Parse(std::span<char>(in.data(), in.size()), &r);
  EXPECT_EQ(res.kind, ParseResult::kError);
  EXPECT_EQ(res.status, 431);
  std::string target = "GET /" + std::string(9000, 'a');
  p.Reset();
  res = p.Parse(std::span<char>(target.data(), target.size()), &r);
  EXPECT_EQ(res.status, 414);
}

// A 64 KiB head fed one byte at a time must stay linear (the scan position is remembered).
TEST(RequestParser, ByteByByteLargeHeadIsLinear) {
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n";
  while (in.size() < 60 * 1024) in += "X-Filler: " + std::string(1000, 'f') + "\r\n";
  in += "\r\n";
  Limits limits;
  RequestParser p(&limits);
  Request r;
  ParseResult res;
  for (size_t n = 1; n <= in.size(); ++n) {
    res = p.Parse(std::span<char>(in.data(), n), &r);
    if (res.kind != ParseResult::kNeedMore) break;
  }
  ASSERT_EQ(res.kind, ParseResult::kComplete);
  EXPECT_EQ(res.consumed, in.size());
  EXPECT_EQ(r.num_headers, 1 + (in.size() - 27) / 1012);
}

TEST(RequestParser, StaysSmall) {
  EXPECT_LT(sizeof(RequestParser), 64u);  // one per connection
}

}  // namespace
}  // namespace httpkv::http
