// Expect: 100-continue (RFC 9110 10.1.1): "100 Continue" only when the body will be read;
// otherwise the final answer (413, 404, 405, 501) comes at once and the connection closes,
// so the client never has to send the body.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

constexpr uint64_t kMaxValue = 100;

class ExpectTest : public ConformanceTest {
 protected:
  ExpectTest() : ConformanceTest(kMaxValue) {}

  static std::string Head(std::string_view method, std::string_view target, size_t length,
                          std::string_view version = "HTTP/1.1") {
    return std::string(method) + " " + std::string(target) + " " + std::string(version) +
           "\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(length) +
           "\r\n\r\n";
  }

  // Sends only the head; expects an immediate final `status`, then close.
  void ExpectEarlyReject(const std::string& head, int status, std::string_view allow = {}) {
    for (Feed f : kFeeds) {
      SCOPED_TRACE(std::string(FeedName(f)) + ": " + Escape(head));
      RawClient c(port());
      SendVia(c, head, f);
      const std::string first = c.ReadHead();
      EXPECT_TRUE(first.starts_with("HTTP/1.1 " + std::to_string(status) + " ")) << first;
      EXPECT_NE(first.find("Connection: close\r\n"), std::string::npos) << first;
      if (!allow.empty()) {
        EXPECT_NE(first.find("Allow: " + std::string(allow) + "\r\n"), std::string::npos) << first;
      }
      c.ReadToEof();  // the error body; then the server closes
      EXPECT_TRUE(c.AtEof());
    }
  }
};

TEST_F(ExpectTest, ContinueThenBodyThenAnswer) {
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    const std::string key = std::string("/kv/e-") + FeedName(f);
    RawClient c(port());
    SendVia(c, Head("PUT", key, 5), f);
    EXPECT_EQ(c.ReadHead(), "HTTP/1.1 100 Continue\r\n\r\n");
    SendVia(c, "hello", f);
    EXPECT_EQ(c.Read().status, 201);
    c.Send(BuildRequest("GET", key));
    EXPECT_EQ(c.Read().body, "hello");
  }
}

TEST_F(ExpectTest, ContinueForChunkedBodies) {
  RawClient c(port());
  c.Send(
      "POST /create HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(c.ReadHead(), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("3\r\nk:v\r\n0\r\n\r\n");
  EXPECT_EQ(c.Read().status, 201);
}

TEST_F(ExpectTest, BodySentWithTheHeadNeedsNoContinue) {
  RawClient c(port());
  c.Send(Head("PUT", "/kv/eager", 3) + "abc");
  EXPECT_TRUE(c.ReadHead().starts_with("HTTP/1.1 201 "));
}

TEST_F(ExpectTest, NoContinueWithoutABody) {
  RawClient c(port());
  c.Send(Head("PUT", "/kv/empty", 0));
  EXPECT_TRUE(c.ReadHead().starts_with("HTTP/1.1 201 "));
}

TEST_F(ExpectTest, Http10IgnoresExpect) {
  // No 100 for an HTTP/1.0 client: once the body is sent, the first head is the answer.
  RawClient c(port());
  c.Send(Head("PUT", "/kv/ten", 2, "HTTP/1.0"));
  c.Send("10");
  EXPECT_TRUE(c.ReadHead().starts_with("HTTP/1.1 201 "));
}

TEST_F(ExpectTest, TooLargeGets413InsteadOfContinue) {
  ExpectEarlyReject(Head("PUT", "/kv/big", kMaxValue + 1), 413);
  ExpectEarlyReject(Head("POST", "/create", 1 << 30), 413);
}

TEST_F(ExpectTest, RejectingRoutesAnswerInsteadOfContinue) {
  ExpectEarlyReject(Head("POST", "/kv/x", 10), 405, "GET, HEAD, PUT, DELETE, OPTIONS");
  ExpectEarlyReject(Head("PUT", "/create", 10), 405, "POST, OPTIONS");
  ExpectEarlyReject(Head("PUT", "/nowhere", 10), 404);
  ExpectEarlyReject(Head("PATCH", "/kv/x", 10), 501);
}

TEST_F(ExpectTest, RejectedExpectDoesNotReadTheBodyAsARequest) {
  // The body (which looks like a request) arrives after the early 404: it must never be
  // answered, and the connection closes.
  const std::string body(kCanary);
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    RawClient c(port());
    SendVia(c, Head("PUT", "/nowhere", body.size()), f);
    const std::string first = c.ReadHead();
    EXPECT_TRUE(first.starts_with("HTTP/1.1 404 ")) << first;
    SendVia(c, body, f);  // may fail once the server has closed
    const size_t cl = first.find("Content-Length: ");
    ASSERT_NE(cl, std::string::npos);
    EXPECT_EQ(c.ReadToEof().size(), std::stoul(first.substr(cl + 16)));  // the 404's body only
    EXPECT_TRUE(c.AtEof());
  }
  // Sent in one write the request is complete before any decision: the body is consumed as
  // a body and the connection goes on.
  RawClient c(port());
  c.Send(Head("PUT", "/nowhere", body.size()) + body + BuildRequest("GET", "/healthz"));
  EXPECT_EQ(c.Read().status, 404);
  EXPECT_EQ(c.Read().status, 200);
}

}  // namespace
}  // namespace httpkv::conformance
