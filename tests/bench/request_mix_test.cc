#include "bench/loadgen/request_mix.h"

#include <gtest/gtest.h>

#include <string>

#include "http/request_parser.h"

namespace httpkv::bench {
namespace {

TEST(RequestMix, ParseAndReject) {
  std::string err;
  auto m = RequestMix::Parse("get=90,put=10", &err);
  ASSERT_TRUE(m) << err;
  EXPECT_EQ(m->weight(Op::kGet), 90u);
  EXPECT_EQ(m->weight(Op::kPost), 0u);
  EXPECT_TRUE(m->reads_keys());
  EXPECT_EQ(m->ToString(), "get=90,put=10");
  EXPECT_FALSE(RequestMix::Parse("put=1", &err)->reads_keys());
  for (const char* bad : {"", "get", "get=", "get=x", "del=1", "get=0", "get=1,get=2", "get=-1"}) {
    EXPECT_FALSE(RequestMix::Parse(bad, &err)) << bad;
    EXPECT_FALSE(err.empty());
  }
}

TEST(RequestMix, ProportionsFollowWeights) {
  RequestMix mix({50, 30, 15, 5});
  Rng rng(11);
  int counts[kNumOps] = {};
  const int n = 400000;
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(mix.Pick(rng))];
  const double want[] = {0.50, 0.30, 0.15, 0.05};
  for (size_t i = 0; i < kNumOps; ++i) EXPECT_NEAR(counts[i] / double(n), want[i], 0.005) << i;
}

struct Parsed {
  std::string method, path, host, body;
};

// Parses every request in `bytes` with the server's own strict parser.
std::vector<Parsed> ParseAll(reactor::Buffer& in) {
  std::vector<Parsed> out;
  http::Limits limits;
  http::RequestParser parser(&limits);
  http::Request req;
  while (!in.empty()) {
    const http::ParseResult r = parser.Parse(in.readable_span(), &req);
    EXPECT_EQ(r.kind, http::ParseResult::kComplete) << r.reason;
    if (r.kind != http::ParseResult::kComplete) break;
    out.push_back({std::string(req.method_name), std::string(req.path), std::string(req.host),
                   std::string(req.body)});
    EXPECT_TRUE(req.keep_alive);
    EXPECT_EQ(req.minor_version, 1);
    in.Consume(r.consumed);
    parser.Reset();
  }
  return out;
}

TEST(RequestBuilder, EveryOpIsValidHttp) {
  RequestBuilder b("127.0.0.1:8080", 10, "");
  reactor::Buffer buf;
  b.Append(buf, Op::kGet, 7);
  b.Append(buf, Op::kPut, 12345);
  b.Append(buf, Op::kPost, 9);
  b.Append(buf, Op::kUpdate, 1000000);
  const auto reqs = ParseAll(buf);
  ASSERT_EQ(reqs.size(), 4u);
  const std::string v = b.value();
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/kv/key-7");
  EXPECT_EQ(reqs[0].host, "127.0.0.1:8080");
  EXPECT_EQ(reqs[0].body, "");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].path, "/kv/key-12345");
  EXPECT_EQ(reqs[1].body, v);
  EXPECT_EQ(reqs[2].method, "POST");
  EXPECT_EQ(reqs[2].path, "/create");
  EXPECT_EQ(reqs[2].body, "key-9:" + v);
  EXPECT_EQ(reqs[3].method, "PUT");
  EXPECT_EQ(reqs[3].path, "/update");
  EXPECT_EQ(reqs[3].body, "key-1000000:" + v);
}

TEST(RequestBuilder, FixedPathAndEmptyValue) {
  RequestBuilder b("localhost", 0, "/index.html");
  reactor::Buffer buf;
  b.Append(buf, Op::kGet, 3);
  b.Append(buf, Op::kPut, 3);
  b.Append(buf, Op::kPost, 0);
  const auto reqs = ParseAll(buf);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].path, "/index.html");
  EXPECT_EQ(reqs[1].body, "");
  EXPECT_EQ(reqs[2].body, "key-0:");
}

TEST(RequestBuilder, BearerTokenOnEveryRequest) {
  RequestBuilder b("h", 2, "", "tok.EN");
  reactor::Buffer buf;
  for (Op op : {Op::kGet, Op::kPut, Op::kPost, Op::kUpdate}) b.Append(buf, op, 7);
  const std::string all(buf.readable_span().begin(), buf.readable_span().end());
  size_t n = 0;
  for (size_t at = 0;
       (at = all.find("\r\nAuthorization: Bearer tok.EN\r\n", at)) != std::string::npos; ++at)
    ++n;
  EXPECT_EQ(n, 4u) << all;
}

TEST(RequestBuilder, NoAllocationOnceTheBufferHasGrown) {
  RequestBuilder b("h", 64, "");
  reactor::Buffer buf;
  for (int i = 0; i < 8; ++i) b.Append(buf, Op::kUpdate, 99999999);
  const size_t cap = buf.capacity();
  buf.ConsumeAll();
  for (int i = 0; i < 8; ++i) b.Append(buf, Op::kUpdate, 99999999);
  EXPECT_EQ(buf.capacity(), cap);
  EXPECT_EQ(DecimalDigits(0), 1);
  EXPECT_EQ(DecimalDigits(99999999), 8);
  EXPECT_EQ(DecimalDigits(100000000), 9);
}

}  // namespace
}  // namespace httpkv::bench
