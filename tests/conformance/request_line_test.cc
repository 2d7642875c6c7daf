// Request line and Host (RFC 9112 3, RFC 9110 7.2): tokens, target forms, versions.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

using RequestLineTest = ConformanceTest;

TEST_F(RequestLineTest, KnownMethodsAreRouted) {
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n", 200);
  ExpectAnswered("DELETE /kv/absent HTTP/1.1\r\nHost: h\r\n\r\n", 404);
  ExpectAnswered("OPTIONS /kv/x HTTP/1.1\r\nHost: h\r\n\r\n", 204);
  ExpectAnswered("POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 405);
}

TEST_F(RequestLineTest, UnknownTokenMethodsGet501AndKeepTheConnection) {
  // A well-formed request the server does not implement: its framing is trusted, so the
  // body is skipped and the connection goes on.
  for (std::string_view m : {"PATCH", "get", "Get", "PROPFIND", "BREW", "X-CUSTOM!", "CONNECT"}) {
    const std::string target = m == "CONNECT" ? "h:80" : "/kv/x";
    ExpectAnswered(
        std::string(m) + " " + target + " HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
        501);
  }
}

TEST_F(RequestLineTest, MalformedMethodIs400) {
  for (std::string_view line : {"G@T / HTTP/1.1", "GE(T / HTTP/1.1", " GET / HTTP/1.1",
                                "\"GET\" / HTTP/1.1", "/ HTTP/1.1", "GET"}) {
    ExpectRejected(std::string(line) + "\r\nHost: h\r\n\r\n", 400);
  }
}

TEST_F(RequestLineTest, SeparatorsAreSingleSpaces) {
  for (std::string_view line :
       {"GET  /healthz HTTP/1.1", "GET /healthz  HTTP/1.1", "GET\t/healthz HTTP/1.1",
        "GET /healthz\tHTTP/1.1", "GET /healthz HTTP/1.1 ", "GET /healthz", "GET /healthz ",
        "GET /a b HTTP/1.1"}) {
    ExpectRejected(std::string(line) + "\r\nHost: h\r\n\r\n", 400);
  }
}

TEST_F(RequestLineTest, OriginForm) {
  ExpectAnswered(
      [](const std::string& tag) {
        return BuildRequest("PUT", "/kv/o-" + tag, "v") +
               BuildRequest("GET", "/kv/o-" + tag + "?ignored=1");
      },
      {201, 200});
  ExpectRejected("GET kv/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRejected("GET \x80/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_F(RequestLineTest, AbsoluteFormIsRoutedByPath) {
  ExpectAnswered(
      [](const std::string& tag) {
        return BuildRequest("PUT", "http://example.com/kv/a-" + tag, "v") +
               BuildRequest("GET", "http://example.com:8080/kv/a-" + tag + "?q") +
               BuildRequest("GET", "http://example.com") +  // empty path reads as "/"
               BuildRequest("GET", "https://h/healthz");
      },
      {201, 200, 200, 200});
  ExpectRejected("GET http:///kv/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);  // no authority
  ExpectRejected("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_F(RequestLineTest, AsteriskOnlyForOptions) {
  ExpectAnswered("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 204);
  for (std::string_view m : {"GET", "HEAD", "DELETE", "PUT"}) {
    ExpectRejected(std::string(m) + " * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  }
}

TEST_F(RequestLineTest, AuthorityFormIsNotAnOriginTarget) {
  ExpectRejected("GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_F(RequestLineTest, UnsupportedVersionsAre505) {
  for (std::string_view v : {"HTTP/2.0", "HTTP/1.2", "HTTP/1.9", "HTTP/0.9", "HTTP/3.0"}) {
    ExpectRejected("GET /healthz " + std::string(v) + "\r\nHost: h\r\n\r\n", 505);
  }
}

TEST_F(RequestLineTest, MalformedVersionsAre400) {
  for (std::string_view v : {"HTTP/1.10", "HTTP/1", "http/1.1", "HTTP/1.1x", "HTTP/11", "HTTP/a.b",
                             "HTTPS/1.1", "HTTP/ 1.1", "HTTP/1,1"}) {
    ExpectRejected("GET /healthz " + std::string(v) + "\r\nHost: h\r\n\r\n", 400);
  }
}

TEST_F(RequestLineTest, Http10WorksWithoutHostAndCloses) {
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    RawClient c(port());
    SendVia(c, std::string("GET /healthz HTTP/1.0\r\n\r\n") + std::string(kCanary), f);
    EXPECT_EQ(c.Read().status, 200);
    EXPECT_EQ(c.ReadToEof(), "");  // 1.0 without keep-alive: closes after one answer
    EXPECT_TRUE(c.AtEof());
  }
}

TEST_F(RequestLineTest, Http11RequiresExactlyOneHost) {
  ExpectRejected("GET /healthz HTTP/1.1\r\n\r\n", 400);
  ExpectRejected("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  ExpectRejected("GET /healthz HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
  ExpectRejected("GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost:\r\n\r\n", 200);  // empty Host is allowed
}

TEST_F(RequestLineTest, LeadingBlankLinesAreSkipped) {
  ExpectAnswered("\r\n\r\nGET /healthz HTTP/1.1\r\nHost: h\r\n\r\n", 200);
}

}  // namespace
}  // namespace httpkv::conformance
