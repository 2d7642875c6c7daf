// Host (RFC 9112 3.2): exactly one in HTTP/1.1, and its value is uri-host [":" port]
// (RFC 3986: IP-literal, IPv4address or reg-name). Anything else is 400 and closes.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

using HostTest = ConformanceTest;

std::string GetWithHost(std::string_view target, std::string_view host) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
}

TEST_F(HostTest, InvalidValuesAre400) {
  for (std::string_view host :
       {"127.0.0.1/create", "a b", "user@x", "x:8o", "x:80:80", "[::1", "[::1]x", "[1:2]",
        "[fe80::1%25eth0]", "a%zz", "a\"b", "a[b]", "h/a b", "caf\xc3\xa9"}) {
    SCOPED_TRACE(Escape(host));
    ExpectRejected(GetWithHost("/healthz", host), 400);
  }
}

TEST_F(HostTest, ValidValuesAreServed) {
  for (std::string_view host :
       {"h", "localhost:8080", "x:", "127.0.0.1", "[::1]:8080", "[::ffff:1.2.3.4]", "[v1.x:y]",
        "a%20b.example", "a-b_c~d", "!$&'()*+,;=", "256.1.1.1"}) {
    SCOPED_TRACE(Escape(host));
    ExpectAnswered(GetWithHost("/healthz", host), 200);
  }
}

TEST_F(HostTest, MissingOrRepeatedHostIs400) {
  ExpectRejected("GET /healthz HTTP/1.1\r\n\r\n", 400);
  ExpectRejected("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  ExpectRejected("GET /healthz HTTP/1.0\r\nHost: a b\r\n\r\n", 400);  // optional, yet valid
}

TEST_F(HostTest, EmptyHostOnlyWithoutAnAuthorityInTheTarget) {
  ExpectAnswered("GET /healthz HTTP/1.1\r\nHost:\r\n\r\n", 200);
  ExpectRejected("GET http://h/healthz HTTP/1.1\r\nHost:\r\n\r\n", 400);
}

// The original client's shape: the one-line reason says what to send instead.
TEST_F(HostTest, HostHoldingAPathIs400NamingTheFix) {
  const std::string bad =
      "POST / HTTP/1.1\r\nHost: 127.0.0.1/create\r\nContent-Length: 7\r\n\r\n1:x";
  ExpectRejected(bad + "yzabc", 400);
  RawClient c(port());
  c.Send(bad + "yzabc");
  EXPECT_EQ(c.Read().body,
            "Host header holds a path (\"127.0.0.1/create\"): put the path in the request line: "
            "POST /create HTTP/1.1 with Host: 127.0.0.1\n");
  // Answered from the head: a client waiting for 100 Continue is not kept waiting.
  for (Feed f : kFeeds) {
    RawClient e(port());
    SendVia(e,
            "PUT / HTTP/1.1\r\nHost: h/update\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            f);
    ExpectErrorThenClose(e, 400);
  }
}

TEST_F(HostTest, ErrorAnswerToHeadHasNoBody) {
  for (Feed f : kFeeds) {
    RawClient c(port());
    SendVia(c, "HEAD / HTTP/1.1\r\nHost: 127.0.0.1/\r\n\r\n" + std::string(kCanary), f);
    const Reply r = c.Read(/*head_request=*/true);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.Header("Content-Length"), "0");  // the GET's length, as for any HEAD
    EXPECT_EQ(Escape(c.ReadToEof()), "") << "a body (or the canary's answer) followed";
    EXPECT_TRUE(c.AtEof());
  }
}

// With --compat seed the same bytes are served as the request line would have said.
class HostCompatTest : public ConformanceTest {
 protected:
  HostCompatTest() {
    server::ServerOptions opts = e2e::InProcessServer::Options(dir_.path());
    opts.compat_seed = true;
    srv_.reset();
    srv_ = std::make_unique<e2e::InProcessServer>(opts);
  }
};

TEST_F(HostCompatTest, HostPathOnRootIsServedAsThatPath) {
  ExpectAnswered(
      [](const std::string& tag) {
        const std::string body = tag + ":v";
        return "POST / HTTP/1.1\r\nHost: 127.0.0.1/create\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body + "GET /kv/" + tag +
               " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nPUT / HTTP/1.1\r\nHost: 127.0.0.1/create\r\n"
               "Content-Length: 0\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1/nowhere\r\n\r\n";
      },
      {201, 200, 405, 404});
}

TEST_F(HostCompatTest, OtherInvalidHostsStay400) {
  ExpectRejected(GetWithHost("/healthz", "127.0.0.1/create"), 400);  // target is not "/"
  ExpectRejected(GetWithHost("/", "a b/create"), 400);
  ExpectRejected(GetWithHost("/", "user@x/create"), 400);
}

}  // namespace
}  // namespace httpkv::conformance
