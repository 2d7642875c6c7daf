// Pipelining (RFC 9112 9.3.2): answers in request order, whatever the write boundaries.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

using PipeliningTest = ConformanceTest;

TEST_F(PipeliningTest, AnswersComeInRequestOrder) {
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    const std::string k = std::string("/kv/order-") + FeedName(f);
    RawClient c(port());
    auto r =
        Exchange(c,
                 BuildRequest("GET", k) + BuildRequest("PUT", k, "one") + BuildRequest("GET", k) +
                     BuildRequest("PUT", k, "two") + BuildRequest("GET", k) +
                     BuildRequest("DELETE", k) + BuildRequest("GET", k),
                 f, {404, 201, 200, 204, 200, 204, 404});
    EXPECT_EQ(r[2].body, "one");
    EXPECT_EQ(r[4].body, "two");
  }
}

TEST_F(PipeliningTest, ManyRequestsInOneWrite) {
  std::string batch;
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) {
    batch += BuildRequest("PUT", "/kv/m" + std::to_string(i), "value-" + std::to_string(i));
  }
  for (int i = kN - 1; i >= 0; --i) batch += BuildRequest("GET", "/kv/m" + std::to_string(i));
  RawClient c(port());
  c.Send(batch);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(c.Read().status, 201) << i;
  for (int i = kN - 1; i >= 0; --i) {
    Reply r = c.Read();
    ASSERT_EQ(r.status, 200) << i;
    ASSERT_EQ(r.body, "value-" + std::to_string(i));
  }
}

TEST_F(PipeliningTest, MixedMethodsAndRoutes) {
  ExpectAnswered(
      [](const std::string& tag) {
        const std::string k = "mx-" + tag;
        return BuildRequest("POST", "/create", k + ":a") +
               BuildRequest("POST", "/create", k + ":b") +
               BuildRequest("PUT", "/update", k + ":c") + BuildRequest("GET", "/kv/" + k) +
               BuildRequest("OPTIONS", "/") + BuildRequest("PATCH", "/kv/" + k, "zz") +
               BuildRequest("GET", "/create") + BuildRequest("GET", "/nowhere") +
               BuildRequest("GET", "/healthz") + BuildRequest("DELETE", "/kv/" + k);
      },
      {201, 409, 200, 200, 204, 501, 405, 404, 200, 204});
}

TEST_F(PipeliningTest, HeadInTheMiddleHasNoBody) {
  // If a HEAD answer carried a body, every later answer would be misframed.
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    const std::string k = std::string("/kv/head-") + FeedName(f);
    RawClient c(port());
    auto r = Exchange(c,
                      BuildRequest("PUT", k, "0123456789") + BuildRequest("HEAD", k) +
                          BuildRequest("HEAD", "/kv/absent") + BuildRequest("HEAD", "/") +
                          BuildRequest("GET", k),
                      f, {201, 200, 404, 200, 200}, {1, 2, 3});
    EXPECT_EQ(r[1].Header("Content-Length"), "10");
    EXPECT_EQ(r[1].body, "");
    EXPECT_FALSE(r[1].Header("ETag").empty());
    EXPECT_EQ(r[4].body, "0123456789");
    EXPECT_EQ(r[4].Header("ETag"), r[1].Header("ETag"));
  }
}

TEST_F(PipeliningTest, RequestsAfterConnectionCloseAreNotAnswered) {
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    RawClient c(port());
    SendVia(c,
            BuildRequest("GET", "/healthz") +
                BuildRequest("GET", "/healthz", {}, "Connection: close\r\n") +
                BuildRequest("PUT", "/kv/never", "x"),
            f);
    EXPECT_EQ(c.Read().status, 200);
    EXPECT_EQ(c.Read().status, 200);
    EXPECT_EQ(c.ReadToEof(), "");
    EXPECT_TRUE(c.AtEof());
  }
  EXPECT_EQ(e2e::Request(port(), "GET", "/kv/never").status, 404);
}

TEST_F(PipeliningTest, ErrorStopsThePipelineAfterEarlierAnswers) {
  for (Feed f : kFeeds) {
    SCOPED_TRACE(FeedName(f));
    RawClient c(port());
    SendVia(c,
            BuildRequest("PUT", "/kv/before", "1") + "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n" +
                BuildRequest("PUT", "/kv/after", "2") + std::string(kCanary),
            f);
    EXPECT_EQ(c.Read().status, f == Feed::kWhole ? 201 : 204);
    ExpectErrorThenClose(c, 400);
  }
  EXPECT_EQ(e2e::Request(port(), "GET", "/kv/after").status, 404);
}

TEST_F(PipeliningTest, PipelinedBodiesOfEveryFraming) {
  ExpectAnswered(
      [](const std::string& tag) {
        const std::string k = "/kv/fr-" + tag;
        return BuildRequest("PUT", k, "cl") + "PUT " + k +
               " HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
               "2\r\nte\r\n0\r\n\r\n" + BuildRequest("GET", k) + "PUT " + k +
               " HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n10" +
               BuildRequest("GET", k);
      },
      {201, 204, 200, 204, 200});
}

}  // namespace
}  // namespace httpkv::conformance
