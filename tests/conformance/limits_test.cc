// Size limits (SPEC defaults): request line over 8 KiB -> 414, header section over 64 KiB
// or more than 100 fields -> 431, body over --max-value -> 413 decided from the head. Each
// is answered once and the connection closed; nothing after it is answered.
#include <algorithm>
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

constexpr uint64_t kMaxValue = 1000;

class LimitsTest : public ConformanceTest {
 protected:
  LimitsTest() : ConformanceTest(kMaxValue) {}

  // "GET /aaa... HTTP/1.1" (no such route) of exactly `len` bytes (excluding CRLF).
  static std::string RequestLine(size_t len) {
    const std::string prefix = "GET /", suffix = " HTTP/1.1";
    return prefix + std::string(len - prefix.size() - suffix.size(), 'a') + suffix;
  }

  // Head whose fields (after the request line, CRLFs and the final empty line included)
  // take `bytes` bytes, in fields of at most 4000 bytes.
  static std::string HeadWithFieldBytes(size_t bytes) {
    std::string fields = "Host: h\r\n";
    const size_t target = bytes - 2;  // the final empty line
    int i = 0;
    while (fields.size() < target) {
      const size_t left = target - fields.size();
      const std::string name = "X-" + std::to_string(i++) + ": ";
      if (left < name.size() + 3) {  // no room for another field: lengthen Host's value
        fields.insert(6, std::string(left, 'h'));
        break;
      }
      fields += name + std::string(std::min<size_t>(4000, left - name.size() - 2), 'v') + "\r\n";
    }
    return "GET /healthz HTTP/1.1\r\n" + fields + "\r\n";
  }

  static std::string HeadWithFields(size_t n) {
    std::string head = "GET /healthz HTTP/1.1\r\nHost: h\r\n";
    for (size_t i = 1; i < n; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
    return head + "\r\n";
  }
};

TEST_F(LimitsTest, RequestLineAtTheLimitIsServed) {
  ExpectAnswered(RequestLine(8192) + "\r\nHost: h\r\n\r\n", 404);
}

TEST_F(LimitsTest, RequestLineOverTheLimitIs414) {
  ExpectRejected(RequestLine(8193) + "\r\nHost: h\r\n\r\n", 414);
  ExpectRejected(RequestLine(20000) + "\r\nHost: h\r\n\r\n", 414);
}

TEST_F(LimitsTest, LongRequestLineIsRejectedBeforeItEnds) {
  // No line end at all: the server must not wait for one.
  for (Feed f : kFeeds) {
    RawClient c(port());
    SendVia(c, "GET /" + std::string(8300, 'a'), f);
    ExpectErrorThenClose(c, 414);
  }
}

TEST_F(LimitsTest, HeaderSectionAtTheLimitIsServed) {
  const std::string head = HeadWithFieldBytes(64 * 1024);
  ASSERT_EQ(head.size() - head.find("\r\n") - 2, 64u * 1024);
  ExpectAnswered(head, 200);
}

TEST_F(LimitsTest, HeaderSectionOverTheLimitIs431) {
  ExpectRejected(HeadWithFieldBytes(64 * 1024 + 1), 431);
  ExpectRejected(HeadWithFieldBytes(100 * 1024), 431);
}

TEST_F(LimitsTest, UnterminatedHugeHeaderIsRejectedBeforeItEnds) {
  for (Feed f : kFeeds) {
    RawClient c(port());
    SendVia(c, "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(70 * 1024, 'v'), f);
    ExpectErrorThenClose(c, 431);
  }
}

TEST_F(LimitsTest, HundredFieldsAreServed) {
  ExpectAnswered(HeadWithFields(100), 200);
}

TEST_F(LimitsTest, MoreThanHundredFieldsIs431) {
  ExpectRejected(HeadWithFields(101), 431);
  ExpectRejected(HeadWithFields(500), 431);
}

TEST_F(LimitsTest, BodyAtMaxValueIsStored) {
  ExpectAnswered(
      [](const std::string& tag) {
        return BuildRequest("PUT", "/kv/max-" + tag, std::string(kMaxValue, 'x'));
      },
      {201});
}

TEST_F(LimitsTest, BodyOverMaxValueIs413BeforeTheBodyIsSent) {
  for (std::string_view cl :
       {"1001", "1048576", "18446744073709551615", "99999999999999999999999"}) {
    for (Feed f : kFeeds) {
      SCOPED_TRACE(std::string(cl) + " " + FeedName(f));
      RawClient c(port());
      // Only the head: the answer must not wait for the body.
      SendVia(c,
              "PUT /kv/big HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::string(cl) + "\r\n\r\n",
              f);
      ExpectErrorThenClose(c, 413);
    }
  }
  EXPECT_EQ(e2e::Request(port(), "GET", "/kv/big").status, 404);
}

TEST_F(LimitsTest, BodyOverMaxValueWithBodyAndCanary) {
  ExpectRejected(BuildRequest("PUT", "/kv/big", std::string(kMaxValue + 1, 'x')), 413);
  ExpectRejected(BuildRequest("POST", "/create", "k:" + std::string(kMaxValue, 'x')), 413);
}

}  // namespace
}  // namespace httpkv::conformance
