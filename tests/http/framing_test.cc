// Invalid requests and body framing: every rejection with its exact status, split-proof.
#include <gtest/gtest.h>

#include <string>

#include "http/request_parser.h"
#include "tests/http/split_harness.h"

namespace httpkv::http {
namespace {

using testing::Outcome;
using testing::RequestSplitProof;

struct BadCase {
  const char* name;
  std::string input;
  int status;
};

void ExpectAll(const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    Outcome o = RequestSplitProof(c.input);
    EXPECT_EQ(o.kind, ParseResult::kError);
    EXPECT_EQ(o.status, c.status) << o.reason;
    EXPECT_FALSE(o.reason.empty());
    if (getenv("SHOW_REASONS")) printf("%-32s %d %s\n", c.name, o.status, o.reason.c_str());
  }
}

const std::string kHost = "Host: h\r\n";

TEST(RequestLine, Rejections) {
  ExpectAll({
      {"empty method", " / HTTP/1.1\r\n\r\n", 400},
      {"non-token method", "G(T / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"double space", "GET  / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"tab separator", "GET\t/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"missing version", "GET /\r\n" + kHost + "\r\n", 400},
      {"trailing space", "GET / HTTP/1.1 \r\n" + kHost + "\r\n", 400},
      {"space in target", "GET /a b HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"CTL in target", "GET /a\x01 HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"DEL in target", "GET /a\x7f HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"relative target", "GET kv/a HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"absolute without authority", "GET http:///a HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"authority-form for GET", "GET h:80 HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"lowercase version", "GET / http/1.1\r\n" + kHost + "\r\n", 400},
      {"HTTP/1", "GET / HTTP/1\r\n" + kHost + "\r\n", 400},
      {"HTTP/1.10", "GET / HTTP/1.10\r\n" + kHost + "\r\n", 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n" + kHost + "\r\n", 505},
      {"HTTP/0.9", "GET / HTTP/0.9\r\n" + kHost + "\r\n", 505},
      {"HTTP/1.2", "GET / HTTP/1.2\r\n" + kHost + "\r\n", 505},
      {"request line too long", "GET /" + std::string(8 * 1024, 'a') + " HTTP/1.1\r\n", 414},
  });
}

TEST(LineEndings, BareLfAndCrRejectedEverywhere) {
  ExpectAll({
      {"bare LF request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
      {"bare LF field", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400},
      {"bare LF end", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400},
      {"bare LF leading", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"bare CR leading", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"bare CR request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"bare CR field", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400},
      {"bare LF chunk size",
       "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n", 400},
      {"bare LF after chunk data",
       "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n", 400},
      {"bare LF trailer",
       "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked\r\n\r\n0\r\nT: 1\n\r\n", 400},
      {"bare LF last", "POST / HTTP/1.1\r\n" + kHost + "Transfer-Encoding: chunked\r\n\r\n0\r\n\n",
       400},
  });
}

TEST(Fields, Rejections) {
  const std::string rl = "GET / HTTP/1.1\r\n";
  ExpectAll({
      {"space before colon", rl + "Host : h\r\n\r\n", 400},
      {"tab before colon", rl + kHost + "X\t: y\r\n\r\n", 400},
      {"obs-fold", rl + kHost + "X: a\r\n  b\r\n\r\n", 400},
      {"first line folded", rl + " X: a\r\n" + kHost + "\r\n", 400},
      {"no colon", rl + kHost + "Xy\r\n\r\n", 400},
      {"empty name", rl + kHost + ": y\r\n\r\n", 400},
      {"non-token name", rl + kHost + "X@Y: y\r\n\r\n", 400},
      {"NUL in value", rl + kHost + std::string("X: a\0b\r\n\r\n", 10), 400},
      {"CTL in value", rl + kHost + "X: a\x1b b\r\n\r\n", 400},
      {"DEL in value", rl + kHost + "X: a\x7f\r\n\r\n", 400},
      {"missing Host", rl + "X: y\r\n\r\n", 400},
      {"two Hosts", rl + kHost + "host: g\r\n\r\n", 400},
      {"too many fields",
       rl + kHost +
           [] {
             std::string s;
             for (int i = 0; i < 100; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
             return s + "\r\n";
           }(),
       431},
      {"header section too large", rl + kHost + "X: " + std::string(64 * 1024, 'a'), 431},
  });
}

TEST(Framing, ContentLengthRejections) {
  const std::string post = "POST / HTTP/1.1\r\n" + kHost;
  ExpectAll({
      {"plus sign", post + "Content-Length: +5\r\n\r\nhello", 400},
      {"hex", post + "Content-Length: 0x5\r\n\r\nhello", 400},
      {"negative", post + "Content-Length: -1\r\n\r\n", 400},
      {"inner space", post + "Content-Length: 5 5\r\n\r\nhello", 400},
      {"list", post + "Content-Length: 5,6\r\n\r\nhello", 400},
      {"equal list", post + "Content-Length: 5, 5\r\n\r\nhello", 400},
      {"empty", post + "Content-Length:\r\n\r\n", 400},
      {"two different", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"same value spelled differently",
       post + "Content-Length: 5\r\nContent-Length: 05\r\n\r\nhello", 400},
      {"CL and TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TE and CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"over max_body", post + "Content-Length: 1048577\r\n\r\n", 413},
      {"overflowing", post + "Content-Length: 99999999999999999999999\r\n\r\n", 413},
  });
}

TEST(Framing, TransferEncodingRejections) {
  const std::string post = "POST / HTTP/1.1\r\n" + kHost;
  const std::string body = "\r\n\r\n0\r\n\r\n";
  ExpectAll({
      {"HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked" + body, 400},
      {"xchunked", post + "Transfer-Encoding: xchunked" + body, 400},
      {"chunked then gzip", post + "Transfer-Encoding: chunked, gzip" + body, 400},
      {"chunked twice", post + "Transfer-Encoding: chunked, chunked" + body, 400},
      {"chunked in two fields",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked" + body, 400},
      {"chunked with parameter", post + "Transfer-Encoding: chunked;x=1" + body, 400},
      {"empty element", post + "Transfer-Encoding: , chunked" + body, 400},
      {"empty value", post + "Transfer-Encoding:" + body, 400},
      {"vertical tab", post + "Transfer-Encoding: chunked\x0b" + body, 400},
      {"quoted", post + "Transfer-Encoding: \"chunked\"" + body, 400},
      {"unknown coding", post + "Transfer-Encoding: foo, chunked" + body, 501},
      {"look-alike chunk", post + "Transfer-Encoding: chunk" + body, 400},
      {"gzip alone", post + "Transfer-Encoding: gzip" + body, 501},
      {"identity alone", post + "Transfer-Encoding: identity" + body, 501},
      {"gzip then chunked", post + "Transfer-Encoding: gzip, chunked" + body, 501},
      {"deflate in second field",
       post + "Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked" + body, 501},
  });
}

TEST(Framing, ValidBodies) {
  Outcome o = RequestSplitProof("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nGET");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "");
  EXPECT_EQ(o.consumed, 47u);
  // Identical repeated Content-Length is accepted.
  o = RequestSplitProof(
      "PUT / HTTP/1.1\r\nHost: h\r\ncontent-length: 2\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "ok");
  o = RequestSplitProof("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n1234567");
  EXPECT_EQ(o.body, "1234567");
  // Case-insensitive chunked, OWS around it.
  o = RequestSplitProof(
      "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "abc");
  // GET without framing headers has an empty body even if bytes follow (pipelining).
  o = RequestSplitProof("DELETE /kv/a HTTP/1.1\r\nHost: h\r\n\r\nxyz");
  EXPECT_EQ(o.body, "");
  EXPECT_EQ(o.consumed, 34u);
}

TEST(Framing, MaxBodyBoundary) {
  Limits limits;
  limits.max_body = 4;
  Outcome o =
      RequestSplitProof("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd", limits);
  EXPECT_EQ(o.kind, ParseResult::kComplete);
  o = RequestSplitProof("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", limits);
  EXPECT_EQ(o.status, 413);  // decided from the head, before any body byte
}

}  // namespace
}  // namespace httpkv::http
