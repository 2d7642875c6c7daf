// Steady state of the request path (parse -> route -> store -> serialize) allocates
// nothing per request for small GET and PUT: counted with a replaced operator new.
// If this fails, break on CountedAlloc in a debugger to see the allocating frame.
#include <gtest/gtest.h>

#include <string>

#include "tests/server/alloc_counter.h"
#include "tests/server/offline_server.h"

namespace httpkv::server {
namespace {

using httpkv::testing::AllocScope;
using testing::OfflineServer;

constexpr int kRequests = 1000;

const std::string kGet = "GET /kv/user:42 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";

std::string PutRequest(char fill) {
  return "PUT /kv/user:42 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 64\r\n\r\n" +
         std::string(64, fill);
}

// Answers one request and drops the output (as if it had been written to the socket).
void Serve(OfflineServer& s, std::string_view req, int expected_status) {
  ASSERT_EQ(s.Feed(req), 1);
  ASSERT_EQ(s.last_status(), expected_status);
  s.output().ConsumeAll();
}

class NoAllocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(srv_.ok());
    Serve(srv_, PutRequest('a'), 201);
    // Warm-up: scratch strings, buffers and the store's write buffer reach their size.
    for (int i = 0; i < 50; ++i) {
      Serve(srv_, PutRequest(static_cast<char>('a' + i % 26)), 204);
      Serve(srv_, kGet, 200);
    }
  }
  OfflineServer srv_;
};

TEST_F(NoAllocTest, WarmGetsDoNotAllocate) {
  AllocScope scope;
  for (int i = 0; i < kRequests; ++i) Serve(srv_, kGet, 200);
  EXPECT_EQ(scope.allocs(), 0u) << "allocations in " << kRequests << " GETs";
}

TEST_F(NoAllocTest, WarmPutOverwritesDoNotAllocate) {
  const std::string puts[2] = {PutRequest('x'), PutRequest('y')};
  AllocScope scope;
  for (int i = 0; i < kRequests; ++i) Serve(srv_, puts[i % 2], 204);
  EXPECT_EQ(scope.allocs(), 0u) << "allocations in " << kRequests << " PUTs";
}

TEST_F(NoAllocTest, WarmPipelinedMixDoesNotAllocate) {
  std::string batch;
  for (int i = 0; i < 8; ++i) batch += kGet + PutRequest(static_cast<char>('k' + i));
  ASSERT_EQ(srv_.Feed(batch), 16);  // warm the larger input/output buffers
  srv_.output().ConsumeAll();
  AllocScope scope;
  for (int i = 0; i < kRequests / 16; ++i) {
    ASSERT_EQ(srv_.Feed(batch), 16);
    srv_.output().ConsumeAll();
  }
  EXPECT_EQ(scope.allocs(), 0u);
}

TEST_F(NoAllocTest, ServedValuesAreCorrect) {
  // The counting harness answers like the server: the last PUT's value is served.
  Serve(srv_, PutRequest('q'), 204);
  ASSERT_EQ(srv_.Feed(kGet), 1);
  const std::string_view out = srv_.output().view();
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n" + std::string(64, 'q'))) << out;
  EXPECT_NE(out.find("Content-Length: 64\r\n"), std::string_view::npos);
  EXPECT_NE(out.find("ETag: \""), std::string_view::npos);
}

TEST(AllocCounter, CountsThisThreadsAllocations) {
  AllocScope scope;
  void* volatile p = ::operator new(100);  // a direct call cannot be elided
  ::operator delete(p);
  EXPECT_EQ(scope.allocs(), 1u);
}

}  // namespace
}  // namespace httpkv::server
