// Response parsing for the client and load generator; every case split-proof.
#include "http/response_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/http/split_harness.h"

namespace httpkv::http {
namespace {

using testing::Outcome;
using testing::ResponseSplitProof;

TEST(ResponseParser, ContentLength) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\nhelloHTTP/1.1";
  Outcome o = ResponseSplitProof(in);
  ASSERT_EQ(o.kind, ParseResult::kComplete) << o.reason;
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.reason, "OK");
  EXPECT_EQ(o.body, "hello");
  EXPECT_EQ(o.consumed, in.size() - 8);
  EXPECT_TRUE(o.keep_alive);
  ASSERT_EQ(o.headers.size(), 2u);
  EXPECT_EQ(o.headers[1].second, "\"x\"");

  ResponseParser p;
  Response r;
  ASSERT_EQ(p.Parse(std::span<char>(in.data(), in.size()), false, &r).kind, ParseResult::kComplete);
  EXPECT_EQ(r.Find("etag"), "\"x\"");
}

TEST(ResponseParser, Chunked) {
  std::string in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\na:1\n\r\n4\r\nb:2\n\r\n0\r\nX-T: v\r\n\r\n";
  Outcome o = ResponseSplitProof(in);
  ASSERT_EQ(o.kind, ParseResult::kComplete) << o.reason;
  EXPECT_EQ(o.body, "a:1\nb:2\n");
  EXPECT_EQ(o.consumed, in.size());
}

TEST(ResponseParser, HeadAndNoBodyStatuses) {
  Outcome o = ResponseSplitProof("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true);
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "");
  o = ResponseSplitProof("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true);
  EXPECT_EQ(o.kind, ParseResult::kComplete);
  for (const char* status : {"204 No Content", "304 Not Modified", "101 Switching"}) {
    std::string in = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 3\r\n\r\nabc";
    o = ResponseSplitProof(in);
    ASSERT_EQ(o.kind, ParseResult::kComplete) << status;
    EXPECT_EQ(o.body, "");
    EXPECT_EQ(o.consumed, in.size() - 3);
  }
}

TEST(ResponseParser, ContinueIsItsOwnResponse) {
  std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
  std::string final = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  std::string in = cont + final;
  Outcome o = ResponseSplitProof(in);
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.status, 100);
  EXPECT_EQ(o.consumed, cont.size());
  ResponseParser p;
  Response r;
  p.Parse(std::span<char>(in.data(), in.size()), false, &r);
  p.Reset();
  ParseResult res = p.Parse(std::span<char>(in.data() + cont.size(), final.size()), false, &r);
  ASSERT_EQ(res.kind, ParseResult::kComplete);
  EXPECT_EQ(r.status, 201);
}

TEST(ResponseParser, ReadUntilClose) {
  std::string in = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
  Outcome o = ResponseSplitProof(in);
  EXPECT_EQ(o.kind, ParseResult::kNeedMore);
  o = ResponseSplitProof(in, false, /*at_eof=*/true);
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.body, "all of it");
  EXPECT_EQ(o.consumed, in.size());
  EXPECT_FALSE(o.keep_alive);
  o = ResponseSplitProof("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", false, true);
  EXPECT_EQ(o.body, "zz");
}

TEST(ResponseParser, EofBeforeCompletionIsAnError) {
  for (std::string in :
       {std::string(""), std::string("HTTP/1.1 200 OK\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n")}) {
    ResponseParser p;
    Response r;
    ParseResult res = p.ParseAtEof(std::span<char>(in.data(), in.size()), false, &r);
    EXPECT_EQ(res.kind, ParseResult::kError) << in;
    EXPECT_EQ(res.status, 502);
  }
}

TEST(ResponseParser, KeepAlive) {
  EXPECT_FALSE(
      ResponseSplitProof("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
          .keep_alive);
  EXPECT_FALSE(ResponseSplitProof("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(
      ResponseSplitProof("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
          .keep_alive);
}

TEST(ResponseParser, StatusLineVariants) {
  Outcome o = ResponseSplitProof("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(o.kind, ParseResult::kComplete);
  EXPECT_EQ(o.status, 404);
  EXPECT_EQ(o.reason, "");
  o = ResponseSplitProof("HTTP/1.1 500 Internal  Server Error\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(o.reason, "Internal  Server Error");
}

TEST(ResponseParser, Rejections) {
  const char* cases[] = {
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 600 Nope\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "HTTX/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n",
  };
  for (const char* in : cases) {
    Outcome o = ResponseSplitProof(in);
    EXPECT_EQ(o.kind, ParseResult::kError) << in;
    EXPECT_EQ(o.status, 502) << in;
  }
}

}  // namespace
}  // namespace httpkv::http
