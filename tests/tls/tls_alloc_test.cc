// Allocations per request over TLS on the reactor threads, in two counts: operator new
// (alloc_counter.h: httpkv's own code and libstdc++), which must stay at zero as on plain
// TCP, and OpenSSL's own mallocs (CRYPTO_set_mem_functions, installed before OpenSSL
// allocates anything). OpenSSL 3.0 allocates inside SSL_read/SSL_write per record (its
// provider-based cipher calls; we keep the record buffers: SSL_MODE_RELEASE_BUFFERS is
// off), so that count is only bounded, well below what one SSL_new per request would
// cost; the measured figure is printed and recorded as a test property.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "tests/e2e/test_server.h"
#include "tests/server/alloc_counter.h"
#include "tests/tls/tls_support.h"

namespace {

std::atomic<uint64_t> g_openssl_allocs{0};

void NoteOpenSslAlloc() {
  if (httpkv::testing::g_count_reactor_allocs.load(std::memory_order_relaxed) &&
      httpkv::testing::OnReactorThread()) {
    g_openssl_allocs.fetch_add(1);
  }
}
void* CountedMalloc(size_t n, const char*, int) {
  NoteOpenSslAlloc();
  return std::malloc(n);
}
void* CountedRealloc(void* p, size_t n, const char*, int) {
  NoteOpenSslAlloc();
  return std::realloc(p, n);
}
void PlainFree(void* p, const char*, int) {
  std::free(p);
}
// Static initialisation: before main, so before OpenSSL's first allocation.
const bool g_hooked = CRYPTO_set_mem_functions(CountedMalloc, CountedRealloc, PlainFree) == 1;

}  // namespace

namespace httpkv::tls_test {
namespace {

using e2e::BuildRequest;
using testing::ReactorAllocScope;

constexpr int kRounds = 200;
constexpr int kPipelined = 8;

// Reads `n` complete responses (Content-Length framed) from s.
int ReadResponses(TlsSocket& s, int n, std::string* pending) {
  int last = 0;
  while (n > 0) {
    const size_t end = pending->find("\r\n\r\n");
    if (end != std::string::npos) {
      const size_t cl = pending->find("Content-Length: ");
      const size_t len =
          cl != std::string::npos && cl < end ? std::stoul(pending->substr(cl + 16)) : 0;
      if (pending->size() >= end + 4 + len) {
        last = std::stoi(pending->substr(9, 3));
        pending->erase(0, end + 4 + len);
        --n;
        continue;
      }
    }
    const std::string more = s.ReadAtLeast(1);
    if (more.empty()) return -1;
    pending->append(more);
  }
  return last;
}

TEST(TlsAllocTest, WarmRequestsOverTlsAllocateOnlyInsideOpenSsl) {
  ASSERT_TRUE(g_hooked) << "CRYPTO_set_mem_functions came too late";
  e2e::TempDir certs, data;
  TestCertificate cert(certs.path());
  ASSERT_TRUE(cert.ok);
  auto o = e2e::InProcessServer::Options(data.path(), 2, storage::FsyncPolicy::kNever);
  o.tls_cert = cert.cert;
  o.tls_key = cert.key;
  e2e::InProcessServer srv(o);
  ASSERT_TRUE(srv.ok());
  SSL_CTX* ctx = NewClientContext(cert.cert);
  TlsSocket s(ctx, srv.port());
  ASSERT_TRUE(s.ok()) << s.error();
  const std::string get = BuildRequest("GET", "/kv/user:42");
  const std::string put[2] = {BuildRequest("PUT", "/kv/user:42", std::string(64, 'x')),
                              BuildRequest("PUT", "/kv/user:42", std::string(64, 'y'))};
  std::string batch;
  for (int i = 0; i < kPipelined; ++i) batch += get + put[i % 2];
  std::string pending;
  auto round = [&] {
    s.Send(get);
    EXPECT_NE(ReadResponses(s, 1, &pending), -1);
    s.Send(put[1]);
    EXPECT_NE(ReadResponses(s, 1, &pending), -1);
    s.Send(batch);
    EXPECT_EQ(ReadResponses(s, 2 * kPipelined, &pending), 204);
  };
  s.Send(put[0]);
  ASSERT_EQ(ReadResponses(s, 1, &pending), 201);
  for (int i = 0; i < 50; ++i) round();  // warm-up
  uint64_t allocs = 0, openssl_allocs = 0;
  {
    ReactorAllocScope scope;
    const uint64_t openssl_start = g_openssl_allocs.load();
    for (int i = 0; i < kRounds; ++i) round();
    s.Send(get);
    EXPECT_EQ(ReadResponses(s, 1, &pending), 200);  // answered after every counted request
    allocs = scope.allocs();
    openssl_allocs = g_openssl_allocs.load() - openssl_start;
  }
  const int requests = kRounds * (2 + 2 * kPipelined) + 1;
  EXPECT_EQ(allocs, 0u) << allocs << " operator-new allocations on reactor threads in " << requests
                        << " requests over TLS";
  const double per_request = static_cast<double>(openssl_allocs) / requests;
  std::printf("OpenSSL allocations on reactor threads: %llu in %d requests (%.2f per request)\n",
              static_cast<unsigned long long>(openssl_allocs), requests, per_request);
  RecordProperty("openssl_allocs_per_request", std::to_string(per_request));
  EXPECT_LT(per_request, 4.0) << "far more than per-record cipher state: a per-request SSL?";
  SSL_CTX_free(ctx);
}

// The hook is live: a handshake allocates on the reactor thread (the SSL, its buffers).
TEST(TlsAllocTest, HandshakesAreSeenAllocating) {
  e2e::TempDir certs, data;
  TestCertificate cert(certs.path());
  ASSERT_TRUE(cert.ok);
  auto o = e2e::InProcessServer::Options(data.path(), 1, storage::FsyncPolicy::kNever);
  o.tls_cert = cert.cert;
  o.tls_key = cert.key;
  e2e::InProcessServer srv(o);
  ASSERT_TRUE(srv.ok());
  SSL_CTX* ctx = NewClientContext(cert.cert);
  uint64_t allocs = 0;
  {
    ReactorAllocScope scope;
    const uint64_t start = g_openssl_allocs.load();
    TlsSocket s(ctx, srv.port());
    ASSERT_TRUE(s.ok()) << s.error();
    s.Send(BuildRequest("GET", "/healthz"));
    std::string pending;
    EXPECT_EQ(ReadResponses(s, 1, &pending), 200);
    allocs = g_openssl_allocs.load() - start;
  }
  EXPECT_GT(allocs, 0u);
  SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace httpkv::tls_test
