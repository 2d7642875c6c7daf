// Header fields (RFC 9110 5, RFC 9112 5) and the headers every answer carries.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

using HeadersTest = ConformanceTest;

TEST_F(HeadersTest, NamesAreCaseInsensitive) {
  ExpectAnswered(
      [](const std::string& tag) {
        return "PUT /kv/c-" + tag + " HTTP/1.1\r\nhOsT: h\r\ncOnTeNt-LeNgTh: 2\r\n\r\nok" +
               "GET /kv/c-" + tag + " HTTP/1.1\r\nHOST: h\r\n\r\n";
      },
      {201, 200});
}

TEST_F(HeadersTest, OptionalWhitespaceAroundValuesIsIgnored) {
  for (Feed f : kFeeds) {
    RawClient c(port());
    const std::string key = std::string("/kv/ows-") + FeedName(f);
    auto r = Exchange(c,
                      "PUT " + key + " HTTP/1.1\r\nHost: h\r\nContent-Length:\t 4 \t\r\n\r\nabcd" +
                          "GET " + key + " HTTP/1.1\r\nHost:h\r\n\r\n",
                      f, {201, 200});
    EXPECT_EQ(r[1].body, "abcd");
  }
}

TEST_F(HeadersTest, EmptyValuesAndObsTextAreAllowed) {
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Sp: \r\n\r\n", 200);
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Utf8: caf\xc3\xa9\r\n\r\n", 200);
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Tab: a\tb\r\n\r\n", 200);
}

TEST_F(HeadersTest, MalformedFieldLinesAre400) {
  for (std::string_view line : {"NoColon", ": empty-name", "X(: y", "X Y: z", "X\"q: y", "X/Y: z",
                                "[x]: y", "X\x80: y", "\tX: y"}) {
    ExpectRejected("GET /healthz HTTP/1.1\r\nHost: h\r\n" + std::string(line) + "\r\n\r\n", 400);
  }
}

TEST_F(HeadersTest, ConnectionCloseIsHonoured) {
  for (std::string_view v : {"close", "Close", "keep-alive, close", "upgrade,close"}) {
    for (Feed f : kFeeds) {
      SCOPED_TRACE(std::string(v) + " " + FeedName(f));
      RawClient c(port());
      SendVia(c,
              "GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: " + std::string(v) + "\r\n\r\n" +
                  std::string(kCanary),
              f);
      Reply r = c.Read();
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.Header("Connection"), "close");
      EXPECT_EQ(c.ReadToEof(), "");
      EXPECT_TRUE(c.AtEof());
    }
  }
}

TEST_F(HeadersTest, Http10KeepAliveIsHonoured) {
  for (Feed f : kFeeds) {
    RawClient c(port());
    auto r = Exchange(c,
                      "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                      "GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                      f, {200, 200});
    EXPECT_EQ(r[0].Header("Connection"), "keep-alive");
    EXPECT_EQ(r[1].Header("Connection"), "keep-alive");
    c.Send("GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_EQ(c.Read().status, 200);
    EXPECT_TRUE(c.AtEof());
  }
}

TEST_F(HeadersTest, EveryAnswerHasDateAndCorrectLengthHeaders) {
  RawClient c(port());
  auto r = Exchange(c,
                    BuildRequest("PUT", "/kv/d", "12345") + BuildRequest("PUT", "/kv/d", "x") +
                        BuildRequest("GET", "/kv/d") + BuildRequest("GET", "/kv/nope") +
                        BuildRequest("HEAD", "/kv/d") + BuildRequest("DELETE", "/kv/d") +
                        BuildRequest("OPTIONS", "/kv/d"),
                    Feed::kWhole, {201, 204, 200, 404, 200, 204, 204}, {4});
  for (const Reply& x : r) {
    SCOPED_TRACE(x.head);
    EXPECT_FALSE(x.Header("Date").empty());
    EXPECT_TRUE(x.Header("Date").ends_with(" GMT"));
    const bool no_body = x.status == 204 || x.status == 304;
    EXPECT_EQ(x.head.find("Content-Length") == std::string::npos, no_body);
  }
  EXPECT_EQ(r[2].Header("Content-Length"), "1");
  EXPECT_EQ(r[4].Header("Content-Length"), "1");  // HEAD: the GET's length, no body
  EXPECT_EQ(r[4].body, "");
  EXPECT_FALSE(r[2].Header("ETag").empty());
  EXPECT_EQ(r[6].Header("Allow"), "GET, HEAD, PUT, DELETE, OPTIONS");
}

TEST_F(HeadersTest, ConditionalRequests) {
  RawClient c(port());
  auto r = Exchange(c, BuildRequest("PUT", "/kv/e", "v1") + BuildRequest("GET", "/kv/e"),
                    Feed::kWhole, {201, 200});
  const std::string etag = r[1].Header("ETag");
  ASSERT_FALSE(etag.empty());
  Exchange(c,
           BuildRequest("GET", "/kv/e", {}, "If-None-Match: \"zz\", " + etag + "\r\n") +
               BuildRequest("GET", "/kv/e", {}, "If-None-Match: W/" + etag + "\r\n") +
               BuildRequest("GET", "/kv/e", {}, "If-None-Match: \"other\"\r\n") +
               BuildRequest("PUT", "/kv/e", "v2", "If-Match: \"other\"\r\n") +
               BuildRequest("PUT", "/kv/e", "v2", "If-None-Match: *\r\n") +
               BuildRequest("PUT", "/kv/e", "v2", "If-Match: " + etag + "\r\n") +
               BuildRequest("PUT", "/kv/e", "v3", "If-Match: " + etag + "\r\n"),
           Feed::kWhole, {304, 304, 200, 412, 412, 204, 412});
}

TEST_F(HeadersTest, LargeButAllowedFieldValues) {
  const std::string big(16 * 1024, 'v');
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " + big + "\r\n\r\n", 200);
}

}  // namespace
}  // namespace httpkv::conformance
