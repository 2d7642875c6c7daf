// Shared helpers for the HTTP/1.1 conformance suites: raw bytes over real loopback
// sockets to an in-process server, each case sent whole and one byte per write.
//
// ExpectRejected is the smuggling check: the bad bytes are followed by a canary request
// (`GET /kv/canary`); the server must answer the bad request with the expected status and
// `Connection: close`, then close without answering anything else — the canary must never
// get a response, whichever way the bytes were split.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/test_server.h"
#ifdef HTTPKV_CONFORMANCE_OVER_TLS
#include "tests/tls/tls_support.h"  // the same cases over HTTPS (tests/tls/CMakeLists.txt)
#endif

namespace httpkv::conformance {

using e2e::BuildRequest;
using e2e::RawClient;
using e2e::Reply;

enum class Feed { kWhole, kByteByByte };
inline constexpr Feed kFeeds[] = {Feed::kWhole, Feed::kByteByByte};

inline const char* FeedName(Feed f) {
  return f == Feed::kWhole ? "whole" : "byte-by-byte";
}

inline constexpr std::string_view kCanary = "GET /kv/canary HTTP/1.1\r\nHost: canary\r\n\r\n";

inline void SendVia(RawClient& c, std::string_view bytes, Feed f) {
  if (f == Feed::kWhole) {
    c.Send(bytes);
  } else {
    c.SendByteByByte(bytes);
  }
}

// Printable form of raw bytes for failure messages.
inline std::string Escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    if (out.size() > 300) return out + "...";
  }
  return out;
}

// One fresh server (data dir, 2 threads, fsync never) per test. Built with
// HTTPKV_CONFORMANCE_OVER_TLS, the server speaks HTTPS and the raw clients reach it
// through a TLS relay (tests/tls/tls_support.h), so the same bytes cross TLS records.
class ConformanceTest : public ::testing::Test {
 protected:
  explicit ConformanceTest(uint64_t max_value = 1 << 20)
      : srv_(std::make_unique<e2e::InProcessServer>(MakeOptions(max_value))) {
#ifdef HTTPKV_CONFORMANCE_OVER_TLS
    if (srv_->ok()) relay_ = std::make_unique<tls_test::TlsRelay>(srv_->port(), cert_.cert);
#endif
  }
  void SetUp() override {
    ASSERT_TRUE(srv_->ok());
  }
#ifdef HTTPKV_CONFORMANCE_OVER_TLS
  uint16_t port() const {
    return relay_->port();
  }
#else
  uint16_t port() const {
    return srv_->port();
  }
#endif
  server::ServerOptions MakeOptions(uint64_t max_value) const {
    server::ServerOptions o =
        e2e::InProcessServer::Options(dir_.path(), 2, storage::FsyncPolicy::kNever, max_value);
#ifdef HTTPKV_CONFORMANCE_OVER_TLS
    o.tls_cert = cert_.cert;
    o.tls_key = cert_.key;
#endif
    return o;
  }

  // Sends bad + canary; expects exactly one answer `status` with Connection: close, then
  // EOF with nothing more (the canary unanswered). Whole and byte by byte.
  void ExpectRejected(std::string_view bad, int status) {
    const std::string bytes = std::string(bad) + std::string(kCanary);
    for (Feed f : kFeeds) {
      SCOPED_TRACE(std::string(FeedName(f)) + ": " + Escape(bad));
      RawClient c(port());
      ASSERT_TRUE(c.connected());
      SendVia(c, bytes, f);
      ExpectErrorThenClose(c, status);
    }
  }

  // After the bad bytes were sent on c: one error answer, close, nothing else.
  static void ExpectErrorThenClose(RawClient& c, int status) {
    const Reply r = c.Read();
    EXPECT_EQ(r.status, status) << r.head;
    EXPECT_EQ(r.Header("Connection"), "close") << r.head;
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size())) << r.head;
    EXPECT_EQ(Escape(c.ReadToEof()), "") << "the request after the bad one was answered";
    EXPECT_TRUE(c.AtEof()) << "connection not closed";
  }

  // Sends bytes and reads one answer per entry of `statuses` (head_at: indexes of answers
  // to HEAD requests). Returns the replies; the connection stays usable.
  static std::vector<Reply> Exchange(RawClient& c, std::string_view bytes, Feed f,
                                     const std::vector<int>& statuses,
                                     const std::vector<size_t>& head_at = {}) {
    SendVia(c, bytes, f);
    std::vector<Reply> out;
    for (size_t i = 0; i < statuses.size(); ++i) {
      bool head = false;
      for (size_t h : head_at) head = head || h == i;
      out.push_back(c.Read(head));
      EXPECT_EQ(out.back().status, statuses[i]) << "answer " << i << "\n" << out.back().head;
    }
    return out;
  }

  // Exchange on a fresh connection per feed; afterwards the connection must still answer
  // (keep-alive). `make` builds the bytes from a per-feed tag so keys do not collide.
  template <typename Make>
  void ExpectAnswered(Make make, const std::vector<int>& statuses,
                      const std::vector<size_t>& head_at = {}) {
    for (Feed f : kFeeds) {
      const std::string bytes = make(std::string(FeedName(f)));
      SCOPED_TRACE(std::string(FeedName(f)) + ": " + Escape(bytes));
      RawClient c(port());
      ASSERT_TRUE(c.connected());
      Exchange(c, bytes, f, statuses, head_at);
      c.Send(BuildRequest("GET", "/healthz"));
      EXPECT_EQ(c.Read().status, 200) << "connection unusable after the exchange";
    }
  }
  void ExpectAnswered(std::string_view bytes, int status) {
    ExpectAnswered([&](const std::string&) { return std::string(bytes); }, {status});
  }

  e2e::TempDir dir_;
#ifdef HTTPKV_CONFORMANCE_OVER_TLS
  tls_test::TestCertificate cert_{dir_.path()};
#endif
  std::unique_ptr<e2e::InProcessServer> srv_;
#ifdef HTTPKV_CONFORMANCE_OVER_TLS
  std::unique_ptr<tls_test::TlsRelay> relay_;  // destroyed before the server
#endif
};

}  // namespace httpkv::conformance
