// HttpClient against an in-process fake server: keep-alive reuse, HEAD, split and chunked
// responses, interim answers, closes, timeouts and protocol errors.
#include "tools/client/http_client.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/client/fake_server.h"

namespace httpkv::client {
namespace {

using fake::CannedReply;
using fake::FakeServer;
using fake::TextReply;

std::optional<HttpClient> ConnectTo(const std::string& target,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  std::string error;
  const auto address = reactor::InetAddress::Parse(target, &error);
  if (!address) return std::nullopt;
  auto client = HttpClient::Connect(*address, target, timeout, &error);
  EXPECT_TRUE(client) << error;
  return client;
}

ClientRequest Get(std::string_view target) {
  return MakeRequest("GET", target);
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
  FakeServer server({{{TextReply(200, "OK", "a")}},
                     {{TextReply(201, "Created", "b\n")}},
                     {{TextReply(404, "Not Found", "")}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(Get("/1"), &r, &error)) << error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a");
  EXPECT_TRUE(r.keep_alive);
  ASSERT_TRUE(c->RoundTrip(PairRequest("POST", "/create", "1:x"), &r, &error)) << error;
  EXPECT_EQ(r.StatusLine(), "201 Created");
  EXPECT_EQ(r.body, "b\n");
  ASSERT_TRUE(c->RoundTrip(Get("/3"), &r, &error)) << error;
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(c->open());
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].method, "POST");
  EXPECT_EQ(seen[1].body, "1:x");
  EXPECT_EQ(seen[2].target, "/3");
  for (const auto& s : seen) EXPECT_EQ(s.connection, 1);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, HeadAnswerHasNoBodyWhateverContentLengthSays) {
  FakeServer server({{{"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n"}},
                     {{TextReply(200, "OK", "after head")}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(MakeRequest("HEAD", "/"), &r, &error)) << error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Length"), "17");
  EXPECT_EQ(r.body, "");
  ASSERT_TRUE(c->RoundTrip(Get("/"), &r, &error)) << error;
  EXPECT_EQ(r.body, "after head");
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ResponseSplitAcrossWrites) {
  FakeServer server(
      {{{"HTT", "P/1.1 200 O", "K\r\nContent-Le", "ngth: 11\r\n\r", "\nhello", " world"}},
       {{TextReply(204, "No Content", "")}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(Get("/"), &r, &error)) << error;
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.raw, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world");
  ASSERT_TRUE(c->RoundTrip(DeleteKeyRequest("k"), &r, &error)) << error;
  EXPECT_EQ(r.status, 204);
}

TEST(HttpClient, ChunkedResponseIsDecodedAndRawKeepsFraming) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  FakeServer server({{{head + "5\r\nhel", "lo\r\n6\r\n wo", "rld\r\n0\r\n\r\n"}},
                     {{TextReply(200, "OK", "next")}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(Get("/"), &r, &error)) << error;
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.raw, head + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(c->RoundTrip(Get("/"), &r, &error)) << error;
  EXPECT_EQ(r.body, "next");
}

TEST(HttpClient, InterimContinueIsSkipped) {
  FakeServer server({{{"HTTP/1.1 100 Continue\r\n\r\n", TextReply(201, "Created", "ok")}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(PutKeyRequest("k", "v"), &r, &error)) << error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "ok");
}

TEST(HttpClient, ConnectionCloseEndsTheConnection) {
  FakeServer server(
      {{{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"}, true}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(Get("/"), &r, &error)) << error;
  EXPECT_EQ(r.body, "hi");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_FALSE(c->open());
  EXPECT_FALSE(c->RoundTrip(Get("/"), &r, &error));
  EXPECT_EQ(error, "the server closed the connection");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, BodyWithoutLengthIsReadUntilClose) {
  FakeServer server({{{"HTTP/1.1 200 OK\r\n\r\nuntil", " close"}, true}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(Get("/"), &r, &error)) << error;
  EXPECT_EQ(r.body, "until close");
  EXPECT_FALSE(c->open());
}

TEST(HttpClient, CloseWithoutAnswerIsAnError) {
  FakeServer server({});  // no replies: the server closes after reading the request
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  EXPECT_FALSE(c->RoundTrip(Get("/"), &r, &error));
  EXPECT_EQ(error, "the server closed the connection without answering");
}

TEST(HttpClient, TruncatedBodyIsAnError) {
  FakeServer server({{{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"}, true}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  EXPECT_FALSE(c->RoundTrip(Get("/"), &r, &error));
  EXPECT_EQ(error, "invalid response: truncated response");
}

TEST(HttpClient, MalformedResponseIsAProtocolError) {
  FakeServer server({{{"HTTP/1.1 200 OK\nContent-Length: 0\n\n"}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  EXPECT_FALSE(c->RoundTrip(Get("/"), &r, &error));
  EXPECT_EQ(error.rfind("invalid response: ", 0), 0u) << error;
  EXPECT_FALSE(c->open());
}

TEST(HttpClient, SilentServerTimesOut) {
  FakeServer server({CannedReply{}});  // reads the request, never answers
  auto c = ConnectTo(server.address(), std::chrono::milliseconds(100));
  ASSERT_TRUE(c);
  ClientResponse r;
  std::string error;
  EXPECT_FALSE(c->RoundTrip(Get("/"), &r, &error));
  EXPECT_EQ(error, "timed out waiting for the response");
}

TEST(HttpClient, RefusedConnectionNamesTheTarget) {
  // A bound socket that does not listen refuses connections.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string target = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::string error;
  const auto address = reactor::InetAddress::Parse(target, &error);
  ASSERT_TRUE(address) << error;
  EXPECT_FALSE(HttpClient::Connect(*address, target, std::chrono::seconds(5), &error));
  EXPECT_EQ(error, "cannot connect to " + target + ": Connection refused");
  ::close(fd);
}

TEST(HttpClient, TraceShowsRawRequestAndResponse) {
  const std::string reply = TextReply(201, "Created", "created /kv/k\n");
  FakeServer server({{{reply}}, {{"HTTP/1.1 204 No Content\r\n\r\n"}}});
  auto c = ConnectTo(server.address());
  ASSERT_TRUE(c);
  std::ostringstream trace;
  c->set_trace(&trace);
  ClientResponse r;
  std::string error;
  ASSERT_TRUE(c->RoundTrip(PutKeyRequest("k", "v"), &r, &error)) << error;
  const std::string req = SerializeRequest(PutKeyRequest("k", "v"), server.address());
  EXPECT_EQ(trace.str(), req + "\n-----\n" + reply + "-----\n");
  trace.str("");
  ASSERT_TRUE(c->RoundTrip(DeleteKeyRequest("k"), &r, &error)) << error;
  EXPECT_EQ(trace.str(), SerializeRequest(DeleteKeyRequest("k"), server.address()) +
                             "-----\nHTTP/1.1 204 No Content\r\n\r\n-----\n");
}

}  // namespace
}  // namespace httpkv::client
