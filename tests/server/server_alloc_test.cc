// Zero allocations per request on the REAL server path: HttpServer with its HttpWorkers
// and Connections over loopback sockets, in every --fsync mode, access log off and on.
// Allocations are counted only on the reactor threads (alloc_counter.h); the client is
// this test's thread and allocates freely. After a warm-up (buffers, scratch strings,
// the store's write buffer and index entries reach their size), N requests are served
// and counted (also with --auth-file: every request carries a bearer token that is looked
// up); a last request answered after them proves the server finished the
// counted work before the scope closes. If this fails, run the single case with
// HTTPKV_ABORT_ON_ALLOC=1 under gdb to see the allocating frame.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <tuple>

#include "tests/e2e/test_server.h"
#include "tests/server/alloc_counter.h"

namespace httpkv::server {
namespace {

using e2e::BuildRequest;
using e2e::InProcessServer;
using e2e::RawClient;
using e2e::TempDir;
using testing::ReactorAllocScope;

constexpr int kRounds = 200;
constexpr int kPipelined = 8;

class ServerAllocTest
    : public ::testing::TestWithParam<
          std::tuple<storage::FsyncPolicy, bool /*access log*/, bool /*auth file*/>> {
 protected:
  void SetUp() override {
    auto [fsync, access_log, auth] = GetParam();
    auto o = InProcessServer::Options(dir_.path(), 2, fsync);
    if (access_log) o.access_log = dir_.path() + "/access.log";
    std::string bearer;
    if (auth) {
      o.auth_file = dir_.path() + "/tokens";
      std::ofstream(o.auth_file) << "r3ad-token-0123456789 read\n"
                                 << "wr1te-token-0123456789abcdef write writer\n"
                                 << "adm1n-token-0123456789 admin\n";
      bearer = "Authorization: Bearer wr1te-token-0123456789abcdef\r\n";
    }
    srv_ = std::make_unique<InProcessServer>(o);
    ASSERT_TRUE(srv_->ok());
    client_ = std::make_unique<RawClient>(srv_->port());
    get_ = BuildRequest("GET", "/kv/user:42", {}, "User-Agent: alloc-test\r\n" + bearer);
    for (char c : {'x', 'y'})
      put_[c - 'x'] = BuildRequest("PUT", "/kv/user:42", std::string(64, c), bearer);
    for (int i = 0; i < kPipelined; ++i) batch_ += get_ + put_[i % 2];
    // A request whose head is split across reads: its first part rides behind a whole
    // request, so once that one is answered the server has seen the partial head (own
    // input buffer, head deadline moved forward).
    split_[0] = get_ + get_.substr(0, 20);
    split_[1] = get_.substr(20);
    ASSERT_EQ(Exchange(put_[0], 1), 201);
    for (int i = 0; i < 50; ++i) Round();  // warm-up
  }

  // Sends `bytes` holding `n` requests; returns the status of the last answer.
  int Exchange(const std::string& bytes, int n) {
    client_->Send(bytes);
    int status = 0;
    for (int i = 0; i < n; ++i) status = client_->Read().status;
    return status;
  }
  void Round() {
    EXPECT_EQ(Exchange(get_, 1), 200);
    EXPECT_EQ(Exchange(put_[1], 1), 204);
    EXPECT_EQ(Exchange(batch_, 2 * kPipelined), 204);
    EXPECT_EQ(Exchange(split_[0], 1), 200);
    EXPECT_EQ(Exchange(split_[1], 1), 200);
  }
  uint64_t CountedRounds() {
    ReactorAllocScope scope;
    for (int i = 0; i < kRounds; ++i) Round();
    EXPECT_EQ(Exchange(get_, 1), 200);  // answered after every counted request
    return scope.allocs();
  }

  TempDir dir_;
  std::unique_ptr<InProcessServer> srv_;
  std::unique_ptr<RawClient> client_;
  std::string get_, put_[2], batch_, split_[2];
};

TEST_P(ServerAllocTest, WarmRequestsDoNotAllocateOnReactorThreads) {
  const uint64_t requests = kRounds * (4 + 2 * kPipelined);
  EXPECT_EQ(CountedRounds(), 0u) << "allocations on reactor threads in " << requests << " requests";
}

// The counter is live on the reactor threads: an error answer formats its reason into
// a std::string (allowed off the hot path), and that is seen.
TEST(ServerAllocCounter, SeesAllocationsOnReactorThreads) {
  TempDir dir;
  InProcessServer srv(InProcessServer::Options(dir.path(), 2));
  ASSERT_TRUE(srv.ok());
  ReactorAllocScope scope;
  RawClient c(srv.port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(c.Read().status, 400);
  EXPECT_GT(scope.allocs(), 0u);
}

std::string CaseName(const ::testing::TestParamInfo<ServerAllocTest::ParamType>& info) {
  auto [fsync, access_log, auth] = info.param;
  const char* mode = fsync == storage::FsyncPolicy::kAlways     ? "FsyncAlways"
                     : fsync == storage::FsyncPolicy::kEverySec ? "FsyncEverySec"
                                                                : "FsyncNever";
  return std::string(mode) + (access_log ? "AccessLog" : "NoAccessLog") + (auth ? "Auth" : "");
}

INSTANTIATE_TEST_SUITE_P(EveryFsyncMode, ServerAllocTest,
                         ::testing::Combine(::testing::Values(storage::FsyncPolicy::kNever,
                                                              storage::FsyncPolicy::kEverySec,
                                                              storage::FsyncPolicy::kAlways),
                                            ::testing::Bool(), ::testing::Values(false)),
                         CaseName);
// --auth-file: the token lookup and scope check per request allocate nothing either.
INSTANTIATE_TEST_SUITE_P(WithAuthFile, ServerAllocTest,
                         ::testing::Combine(::testing::Values(storage::FsyncPolicy::kEverySec,
                                                              storage::FsyncPolicy::kAlways),
                                            ::testing::Values(true), ::testing::Values(true)),
                         CaseName);

}  // namespace
}  // namespace httpkv::server
