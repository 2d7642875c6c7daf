// Message framing (RFC 9112 6): ambiguous or malformed framing is answered 400 (or 501
// for known but unsupported codings) and the connection is closed — never guessed.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

using FramingTest = ConformanceTest;

std::string Put(std::string_view headers, std::string_view body) {
  return "PUT /kv/f HTTP/1.1\r\nHost: h\r\n" + std::string(headers) + "\r\n" + std::string(body);
}

TEST_F(FramingTest, ContentLengthAndTransferEncodingTogether) {
  // The canary hides where a CL-reading peer would see body and a TE-reading one would not.
  ExpectRejected(Put("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400);
  ExpectRejected(Put("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", "0\r\n\r\n"), 400);
  ExpectRejected(Put("Content-Length: 5\r\nTransfer-Encoding: identity\r\n", "hello"), 400);
}

TEST_F(FramingTest, DuplicateContentLength) {
  ExpectRejected(Put("Content-Length: 2\r\nContent-Length: 3\r\n", "abc"), 400);
  ExpectRejected(Put("Content-Length: 3\r\nContent-Length: 03\r\n", "abc"), 400);
  // Byte-identical repeats are harmless (RFC 9112 6.3 allows treating them as one).
  ExpectAnswered(
      [](const std::string& tag) {
        return "PUT /kv/dup-" + tag +
               " HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc";
      },
      {201});
}

TEST_F(FramingTest, NonDigitContentLength) {
  for (std::string_view v : {"+5", "0x5", "5,6", "5,5", "-1", "", " ", "5 5", "1e1", "5.0"}) {
    ExpectRejected(Put("Content-Length: " + std::string(v) + "\r\n", "hello"), 400);
  }
}

TEST_F(FramingTest, LeadingZerosAndWhitespaceAroundContentLength) {
  // 1*DIGIT with OWS trimmed is a valid length.
  ExpectAnswered(
      [](const std::string& tag) {
        return "PUT /kv/lz-" + tag + " HTTP/1.1\r\nHost: h\r\nContent-Length:  003 \r\n\r\nabc";
      },
      {201});
}

TEST_F(FramingTest, ChunkedMustBeLastAndOnce) {
  ExpectRejected(Put("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), 400);
  ExpectRejected(Put("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "0\r\n\r\n"),
                 400);
  ExpectRejected(Put("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400);
}

TEST_F(FramingTest, KnownButUnsupportedCodingsAre501) {
  ExpectRejected(Put("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 501);
  ExpectRejected(Put("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
                 501);
  ExpectRejected(Put("Transfer-Encoding: deflate\r\n", "abc"), 501);
}

TEST_F(FramingTest, UnknownCodingsAre501) {
  for (std::string_view te : {"foo, chunked", "foo", "br, chunked"}) {
    ExpectRejected(Put("Transfer-Encoding: " + std::string(te) + "\r\n", "0\r\n\r\n"), 501);
  }
}

TEST_F(FramingTest, LookAlikeCodingsAre400) {
  for (std::string_view te : {"xchunked", "chunkedx", "chunked;q=1", "\"chunked\"", "chunk",
                              "chunked,", ", chunked", "chun ked"}) {
    ExpectRejected(Put("Transfer-Encoding: " + std::string(te) + "\r\n", "0\r\n\r\n"), 400);
  }
}

TEST_F(FramingTest, CodingNamesAreCaseInsensitiveAndOwsIsTrimmed) {
  // "chunked " is the field value "chunked" after OWS trimming (RFC 9110 5.5).
  int i = 0;
  for (std::string_view te : {"chunked ", "\tchunked", "CHUNKED", "Chunked"}) {
    ExpectAnswered(
        [&](const std::string& tag) {
          return "PUT /kv/te" + std::to_string(i) + "-" + tag +
                 " HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(te) +
                 "\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        },
        {201});
    ++i;
  }
}

TEST_F(FramingTest, TransferEncodingInHttp10) {
  ExpectRejected(
      "PUT /kv/f HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      400);
}

TEST_F(FramingTest, WhitespaceBeforeColon) {
  ExpectRejected(Put("Content-Length : 5\r\n", "hello"), 400);
  ExpectRejected(Put("Transfer-Encoding\t: chunked\r\n", "0\r\n\r\n"), 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
}

TEST_F(FramingTest, ObsFold) {
  ExpectRejected(Put("Content-Length: 5\r\nX-A: a\r\n b\r\n", "hello"), 400);
  ExpectRejected(Put("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"), 400);
  ExpectRejected("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);  // fold before any field
}

TEST_F(FramingTest, BareCrAndBareLf) {
  ExpectRejected("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400);
  ExpectRejected("GET / HTTP/1.1\nHost: h\n\n", 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\nContent-Length: 5\r\n\r\nhello", 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
  ExpectRejected(Put("Transfer-Encoding: chunked\r\n", "3\nabc\r\n0\r\n\r\n"), 400);
  ExpectRejected(Put("Transfer-Encoding: chunked\r\n", "3\r\nabc\n0\r\n\r\n"), 400);
}

TEST_F(FramingTest, NulAndControlBytes) {
  using namespace std::string_literals;
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s, 400);
  ExpectRejected("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\r\nX\0: a\r\n\r\n"s, 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400);
  ExpectRejected("GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[31m\r\n\r\n", 400);
  ExpectRejected(Put("Content-Length: 5\x0b\r\n", "hello"), 400);
}

TEST_F(FramingTest, NoFramingMeansNoBody) {
  // Without Content-Length/Transfer-Encoding a request has no body: "abc" after the head
  // is the next request (400: not a request line), never read until close.
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    RawClient c(port());
    SendVia(c,
            "PUT /kv/nobody-" + std::string(FeedName(f)) +
                " HTTP/1.1\r\nHost: h\r\n\r\nabc\r\n\r\n" + std::string(kCanary),
            f);
    EXPECT_EQ(c.Read().status, 201);  // empty value
    ExpectErrorThenClose(c, 400);
  }
}

TEST_F(FramingTest, BodyBytesAreNotParsedAsRequests) {
  // A body that looks like a request stays a body.
  const std::string inner = "GET /kv/canary HTTP/1.1\r\nHost: x\r\n\r\n";
  ExpectAnswered(
      [&](const std::string& tag) {
        return "PUT /kv/inner-" + tag +
               " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(inner.size()) +
               "\r\n\r\n" + inner + "GET /kv/inner-" + tag + " HTTP/1.1\r\nHost: h\r\n\r\n";
      },
      {201, 200});
}

}  // namespace
}  // namespace httpkv::conformance
