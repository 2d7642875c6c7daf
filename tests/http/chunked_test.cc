// Chunked request bodies: in-place decoding, extensions, trailers, limits, rejections.
#include <gtest/gtest.h>

#include <string>

#include "http/chunked_decoder.h"
#include "http/request_parser.h"
#include "tests/http/split_harness.h"

namespace httpkv::http {
namespace {

using testing::Outcome;
using testing::RequestSplitProof;

const std::string kHead = "POST /create HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(Chunked, DecodesInPlaceWithExtensionsAndTrailers) {
  std::string body =
      "4;name=value\r\nkey:\r\n"
      "A ; q=\"x y\"\r\n0123456789\r\n"
      "1;a;b=c\r\n!\r\n"
      "0\r\nX-Checksum: abc\r\nX-Other:  d \r\n\r\n";
  std::string in = kHead + body + "GET / HTTP/1.1\r\n";
  Outcome o = RequestSplitProof(in);
  ASSERT_EQ(o.kind, ParseResult::kComplete) << o.reason;
  EXPECT_EQ(o.body, "key:0123456789!");
  EXPECT_EQ(o.consumed, kHead.size() + body.size());
  EXPECT_EQ(o.headers.size(), 2u);  // trailers are dropped

  // The decoded bytes sit right after the head, in the caller's buffer.
  Limits limits;
  RequestParser p(&limits);
  Request r;
  ParseResult res = p.Parse(std::span<char>(in.data(), in.size()), &r);
  ASSERT_EQ(res.kind, ParseResult::kComplete);
  EXPECT_EQ(r.body.data(), in.data() + kHead.size());
  EXPECT_TRUE(r.chunked);
}

TEST(Chunked, UpperAndLowerHexAndLongestSize) {
  std::string data(0x1f, 'z');
  Outcome o = RequestSplitProof(kHead + "1F\r\n" + data + "\r\n0\r\n\r\n");
  EXPECT_EQ(o.body, data);
  o = RequestSplitProof(kHead + "000000000000001f\r\n" + data + "\r\n0\r\n\r\n");  // 16 digits
  EXPECT_EQ(o.body, data);
  o = RequestSplitProof(kHead + "0\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "");
}

TEST(Chunked, NeedMoreUntilLastChunkAndEmptyLine) {
  EXPECT_EQ(RequestSplitProof(kHead + "3\r\nabc\r\n").kind, ParseResult::kNeedMore);
  EXPECT_EQ(RequestSplitProof(kHead + "3\r\nabc\r\n0\r\n").kind, ParseResult::kNeedMore);
  EXPECT_EQ(RequestSplitProof(kHead + "3\r\nabc\r\n0\r\nT: v\r\n").kind, ParseResult::kNeedMore);
}

TEST(Chunked, Rejections) {
  struct Case {
    const char* name;
    std::string body;
    int status;
  } cases[] = {
      {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 400},
      {"empty size", "\r\nhello\r\n0\r\n\r\n", 400},
      {"17 hex digits", "00000000000000001\r\nx\r\n0\r\n\r\n", 400},
      {"non-hex", "g\r\nx\r\n0\r\n\r\n", 400},
      {"negative", "-1\r\nx\r\n0\r\n\r\n", 400},
      {"space before size", " 1\r\nx\r\n0\r\n\r\n", 400},
      {"trailing space without ext", "1 \r\nx\r\n0\r\n\r\n", 400},
      {"CTL in extension", "1;a=\x01\r\nx\r\n0\r\n\r\n", 400},
      {"data longer than size", "1\r\nxy\r\n0\r\n\r\n", 400},
      {"missing CRLF after data", "1\r\nx0\r\n\r\n", 400},
      {"bad trailer", "0\r\nBad Trailer: x\r\n\r\n", 400},
      {"folded trailer", "0\r\nT: x\r\n y\r\n\r\n", 400},
      {"size line too long", "1;" + std::string(kMaxChunkLine, 'e') + "\r\nx\r\n0\r\n\r\n", 400},
      {"chunk over max_body", "100001\r\n", 413},
      {"sum over max_body", "80000\r\n" + std::string(0x80000, 'a') + "\r\n80001\r\n", 413},
      {"huge size", "ffffffffffffffff\r\n", 413},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome o = RequestSplitProof(kHead + c.body);
    EXPECT_EQ(o.kind, ParseResult::kError);
    EXPECT_EQ(o.status, c.status) << o.reason;
  }
}

TEST(Chunked, DecodedSizeAtMaxBodyIsAccepted) {
  Limits limits;
  limits.max_body = 6;
  Outcome o = RequestSplitProof(kHead + "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", limits);
  EXPECT_EQ(o.body, "abcdef");
  o = RequestSplitProof(kHead + "3\r\nabc\r\n4\r\n", limits);
  EXPECT_EQ(o.status, 413);
}

TEST(Chunked, TrailerLimits) {
  Limits limits;
  limits.max_headers = 2;
  limits.max_header_bytes = 200;
  Outcome o = RequestSplitProof(kHead + "0\r\nA: 1\r\nB: 2\r\n\r\n", limits);
  EXPECT_EQ(o.kind, ParseResult::kComplete);
  o = RequestSplitProof(kHead + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  EXPECT_EQ(o.status, 431);
  o = RequestSplitProof(kHead + "0\r\nA: " + std::string(300, 'x') + "\r\n\r\n", limits);
  EXPECT_EQ(o.status, 431);
}

TEST(ChunkSizeLine, Grammar) {
  uint64_t v = 0;
  EXPECT_FALSE(ParseChunkSizeLine("ffffffffffffffff", &v).failed());
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(ParseChunkSizeLine("a ;x", &v).failed());
  EXPECT_EQ(v, 10u);
  EXPECT_EQ(ParseChunkSizeLine("a ;x", &v).consumed, 4u);
  EXPECT_EQ(ParseChunkSizeLine("", &v).status, 400);
  EXPECT_EQ(ParseChunkSizeLine("1x", &v).status, 400);
  EXPECT_EQ(ParseChunkSizeLine("1\t", &v).status, 400);
}

// RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
TEST(ChunkSizeLine, ExtensionsFollowTheGrammarExactly) {
  for (std::string_view ok :
       {"5;a", "5;a=b", "5 ;a", "5\t;\ta", "5; a", "5;a =b", "5;a= b", "5;a = b", "5;a;b",
        "5;a=b;c=d", "5 ; a = b ; c", "5;a=\"\"", "5;a=\"x y\"", "5;a=\"q\\\"uote\"",
        "5;a=\"semi;colon\"", "5;!#$%&'*+-.^_`|~=x", "5;a=\"caf\xc3\xa9\"", "5;a=\"\\\x80\""}) {
    uint64_t v = 0;
    const ParseResult r = ParseChunkSizeLine(ok, &v);
    EXPECT_FALSE(r.failed()) << ok << ": " << r.reason;
    EXPECT_EQ(v, 5u) << ok;
  }
  for (std::string_view bad : {"5;",           "5; ",
                               "5;;a",         "5;a;",
                               "5;=b",         "5;a=",
                               "5;a= ",        "5;a=b ",
                               "5;a ",         "5 ",
                               "5 ;",          "5;a b",
                               "5;a=b c",      "5;a=\"unterminated",
                               "5;a=\"x\"y",   "5;a=\"x\" y",
                               "5;a=\"\\",     "5;a=b=c",
                               "5;a=\"\x01\"", "5;a=\"\x7f\"",
                               "5;a\x80",      "5;a=(b)",
                               "5;a=b,c",      "5;a=\"x\"\"y\"",
                               "5x;a",         "5,a"}) {
    uint64_t v = 0;
    const ParseResult r = ParseChunkSizeLine(bad, &v);
    EXPECT_EQ(r.kind, ParseResult::kError) << bad;
    EXPECT_EQ(r.status, 400) << bad;
  }
}

TEST(Chunked, MalformedExtensionsAreRejectedInTheBody) {
  for (std::string_view ext : {";", "; ", ";=v", ";n=", ";n v", ";n=\"open", ";n ", ";n;"}) {
    SCOPED_TRACE(std::string(ext));
    Outcome o = RequestSplitProof(kHead + "5" + std::string(ext) + "\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(o.kind, ParseResult::kError);
    EXPECT_EQ(o.status, 400);
    EXPECT_EQ(o.reason, "invalid chunk extension");
    // Also on the last chunk, where a lenient decoder might stop looking.
    o = RequestSplitProof(kHead + "5\r\nhello\r\n0" + std::string(ext) + "\r\n\r\n");
    EXPECT_EQ(o.status, 400);
  }
}

}  // namespace
}  // namespace httpkv::http
