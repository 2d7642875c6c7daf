// GET / over a store larger than one listing batch: streamed with chunked encoding,
// complete and in order, and requests pipelined behind it wait their turn.
#include <gtest/gtest.h>

#include <string>

#include "server/routes/kv_routes.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%05d", i);
  return buf;
}

class LargeListingTest : public ::testing::Test {
 protected:
  static constexpr int kKeys = 3000;
  LargeListingTest() : srv_(dir_.path()) {}
  void SetUp() override {
    ASSERT_TRUE(srv_.ok());
    RawClient c(srv_.port());
    std::string batch;
    for (int i = 0; i < kKeys; ++i)
      batch += BuildRequest("PUT", "/kv/" + Key(i), std::string(100, 'v'));
    c.Send(batch);
    for (int i = 0; i < kKeys; ++i) ASSERT_EQ(c.Read().status, 201);
  }
  TempDir dir_;
  InProcessServer srv_;
};

TEST_F(LargeListingTest, StreamsChunkedAndComplete) {
  std::string expected;
  for (int i = 0; i < kKeys; ++i) expected += Key(i) + ":" + std::string(100, 'v') + "\n";
  ASSERT_GT(expected.size(), server::kListingBatchBytes);
  RawClient c(srv_.port());
  c.Send(BuildRequest("GET", "/") + BuildRequest("GET", "/kv/" + Key(7)));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(r.Header("Content-Length"), "");
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(c.Read().body, std::string(100, 'v'));  // the pipelined request, after it
}

TEST_F(LargeListingTest, JsonAndLimitAcrossBatches) {
  Reply r = Request(srv_.port(), "GET", "/?limit=2000&after=" + Key(9), {},
                    "Accept: application/json\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.front(), '{');
  EXPECT_EQ(r.body.substr(r.body.size() - 2), "}\n");
  size_t entries = 0;
  for (size_t p = 0; (p = r.body.find("\"key", p)) != std::string::npos; ++p) ++entries;
  EXPECT_EQ(entries, 2000u);
  EXPECT_NE(r.body.find("{\"key00010\":"), std::string::npos);
  EXPECT_NE(r.body.find("\"key02009\":"), std::string::npos);
  EXPECT_EQ(r.body.find("\"key02010\""), std::string::npos);
}

TEST_F(LargeListingTest, HeadHasTheSameHeadAndNoBody) {
  RawClient c(srv_.port());
  c.Send(BuildRequest("HEAD", "/") + BuildRequest("GET", "/healthz"));
  Reply head = c.Read(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(c.Read().body, "ok\n");
}

TEST_F(LargeListingTest, ConnectionCloseAfterStream) {
  RawClient c(srv_.port());
  c.Send(BuildRequest("GET", "/?prefix=key00", {}, "Connection: close\r\n"));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 1000u * (8 + 1 + 100 + 1));
  EXPECT_TRUE(c.AtEof());
}

// ?ttls=1: values with a TTL come as ["value",SECONDS], binary bytes and newlines intact.
TEST(ListingTtls, CarriesRemainingTtlsInJsonOnly) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  const std::string binary("\xff\x00\x80\nz", 5);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/a", "plain").status, 201);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/b?ttl=100", binary).status, 201);
  ASSERT_EQ(Request(srv.port(), "PUT", "/kv/c?ttl=7", "x\ny").status, 201);
  Reply r = Request(srv.port(), "GET", "/?ttls=1", {}, "Accept: application/json\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"a\":\"plain\",\"b\":[\"\xff\\u0000\x80\\nz\",100],\"c\":[\"x\\ny\",7]}\n");
  EXPECT_FALSE(r.Header("X-Seq").empty());
  Reply plain = Request(srv.port(), "GET", "/", {}, "Accept: application/json\r\n");
  EXPECT_EQ(plain.body, "{\"a\":\"plain\",\"b\":\"\xff\\u0000\x80\\nz\",\"c\":\"x\\ny\"}\n");
  EXPECT_EQ(Request(srv.port(), "GET", "/?ttls=1").status, 400);  // text cannot carry them
  EXPECT_EQ(Request(srv.port(), "GET", "/?ttls=x", {}, "Accept: application/json\r\n").status, 400);
}

}  // namespace
}  // namespace httpkv::e2e
