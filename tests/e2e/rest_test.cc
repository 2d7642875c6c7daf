// /kv/{key} round trips, conditional requests, listing pages, health and metrics.
#include <gtest/gtest.h>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

class RestTest : public ::testing::Test {
 protected:
  RestTest() : srv_(dir_.path()) {}
  void SetUp() override { ASSERT_TRUE(srv_.ok()); }
  Reply Do(std::string_view method, std::string_view target, std::string_view body = {},
           std::string_view headers = {}) {
    return Request(srv_.port(), method, target, body, headers);
  }
  TempDir dir_;
  InProcessServer srv_;
};

TEST_F(RestTest, PutGetOverwriteDelete) {
  Reply created = Do("PUT", "/kv/alpha", "one");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.Header("Location"), "/kv/alpha");
  Reply got = Do("GET", "/kv/alpha");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "one");
  EXPECT_EQ(got.Header("ETag"), created.Header("ETag"));
  Reply replaced = Do("PUT", "/kv/alpha", "two");
  EXPECT_EQ(replaced.status, 204);
  EXPECT_EQ(replaced.Header("Content-Length"), "");
  EXPECT_NE(replaced.Header("ETag"), created.Header("ETag"));
  EXPECT_EQ(Do("GET", "/kv/alpha").body, "two");
  EXPECT_EQ(Do("DELETE", "/kv/alpha").status, 204);
  EXPECT_EQ(Do("GET", "/kv/alpha").status, 404);
  EXPECT_EQ(Do("DELETE", "/kv/alpha").status, 404);
}

TEST_F(RestTest, EmptyAndBinaryValues) {
  EXPECT_EQ(Do("PUT", "/kv/empty", "").status, 201);
  Reply e = Do("GET", "/kv/empty");
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.Header("Content-Length"), "0");
  const std::string bin("a\0b\r\n\xff", 6);
  EXPECT_EQ(Do("PUT", "/kv/bin", bin).status, 201);
  EXPECT_EQ(Do("GET", "/kv/bin").body, bin);
}

TEST_F(RestTest, KeysArePercentDecoded) {
  EXPECT_EQ(Do("PUT", "/kv/a%20b%2Fc", "v").status, 201);
  EXPECT_EQ(Do("GET", "/kv/a%20b%2fc").body, "v");
  EXPECT_EQ(Do("GET", "/").body, "a b/c:v\n");
  EXPECT_EQ(Do("GET", "/kv/bad%zz").status, 400);
  EXPECT_EQ(Do("GET", "/kv/trunc%4").status, 400);
  EXPECT_EQ(Do("GET", "/kv/").status, 400);
  EXPECT_EQ(Do("GET", "/kv/ctl%01").status, 400);
}

TEST_F(RestTest, HeadMatchesGetWithoutBody) {
  ASSERT_EQ(Do("PUT", "/kv/h", "12345").status, 201);
  RawClient c(srv_.port());
  c.Send(BuildRequest("HEAD", "/kv/h"));
  Reply head = c.Read(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), "5");
  EXPECT_EQ(head.body, "");
  // The connection stays usable: no stray body bytes were sent.
  c.Send(BuildRequest("GET", "/kv/h"));
  EXPECT_EQ(c.Read().body, "12345");
}

TEST_F(RestTest, ConditionalGet) {
  Reply put = Do("PUT", "/kv/c", "v1");
  const std::string etag = put.Header("ETag");
  ASSERT_FALSE(etag.empty());
  Reply not_modified = Do("GET", "/kv/c", {}, "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("ETag"), etag);
  EXPECT_EQ(not_modified.Header("Content-Length"), "");
  EXPECT_EQ(Do("GET", "/kv/c", {}, "If-None-Match: \"nope\", W/" + etag + "\r\n").status, 304);
  Reply changed = Do("GET", "/kv/c", {}, "If-None-Match: \"nope\"\r\n");
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, "v1");
}

TEST_F(RestTest, ConditionalPut) {
  EXPECT_EQ(Do("PUT", "/kv/p", "x", "If-Match: *\r\n").status, 412);  // absent
  Reply created = Do("PUT", "/kv/p", "v1", "If-None-Match: *\r\n");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(Do("PUT", "/kv/p", "v2", "If-None-Match: *\r\n").status, 412);  // present
  EXPECT_EQ(Do("PUT", "/kv/p", "v2", "If-Match: \"ffff\"\r\n").status, 412);
  const std::string etag = created.Header("ETag");
  EXPECT_EQ(Do("PUT", "/kv/p", "v2", "If-Match: " + etag + "\r\n").status, 204);
  EXPECT_EQ(Do("PUT", "/kv/p", "v3", "If-Match: " + etag + "\r\n").status, 412);  // stale now
  EXPECT_EQ(Do("GET", "/kv/p").body, "v2");
}

TEST_F(RestTest, ListingPagesAndJson) {
  for (const char* k : {"b", "a", "c", "ab", "d"})
    ASSERT_EQ(Do("PUT", std::string("/kv/") + k, k).status, 201);
  EXPECT_EQ(Do("GET", "/").body, "a:a\nab:ab\nb:b\nc:c\nd:d\n");
  EXPECT_EQ(Do("GET", "/?prefix=a").body, "a:a\nab:ab\n");
  EXPECT_EQ(Do("GET", "/?after=ab&limit=2").body, "b:b\nc:c\n");
  EXPECT_EQ(Do("GET", "/?limit=0").body, "");
  EXPECT_EQ(Do("GET", "/?limit=x").status, 400);
  Reply json = Do("GET", "/?prefix=a", {}, "Accept: application/json\r\n");
  EXPECT_EQ(json.Header("Content-Type"), "application/json");
  EXPECT_EQ(json.body, "{\"a\":\"a\",\"ab\":\"ab\"}\n");
}

TEST_F(RestTest, MethodsAndRoutes) {
  Reply r = Do("DELETE", "/");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(Do("GET", "/create").status, 405);
  EXPECT_EQ(Do("POST", "/kv/x", "v").status, 405);
  EXPECT_EQ(Do("GET", "/nothing").status, 404);
  EXPECT_EQ(Do("PATCH", "/kv/x", "v").status, 501);
  Reply opt = Do("OPTIONS", "/kv/x");
  EXPECT_EQ(opt.status, 204);
  EXPECT_EQ(opt.Header("Allow"), "GET, HEAD, PUT, DELETE, OPTIONS");
  EXPECT_EQ(Do("GET", "/healthz").status, 200);
  EXPECT_EQ(Do("GET", "/readyz").status, 200);
}

TEST_F(RestTest, OversizedBodyGets413AndClose) {
  RawClient c(srv_.port());
  c.Send("PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
  Reply r = c.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_TRUE(c.AtEof());
  EXPECT_EQ(Do("GET", "/kv/big").status, 404);
}

TEST_F(RestTest, MetricsCountRequests) {
  Do("GET", "/kv/missing");
  Do("GET", "/kv/missing");
  Reply m = Do("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("httpkv_requests_total{method=\"GET\",route=\"kv\",status=\"404\"} 2\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("httpkv_request_duration_seconds_count"), std::string::npos);
  EXPECT_NE(m.body.find("httpkv_keys 0\n"), std::string::npos);
}

}  // namespace
}  // namespace httpkv::e2e
