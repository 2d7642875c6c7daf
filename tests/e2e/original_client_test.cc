// The original assignment's client.py (SPEC "The original client") replayed byte for byte
// against the real server binary: one connection per request, the route in the Host
// header. Without --compat seed every request gets 400 naming the fix and nothing is
// stored; with it the walk-through gets SPEC's answers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

struct Step {
  const char* url;  // client.py's test_case 'url' (sent as the Host value)
  const char* method;
  const char* data;
  int compat_status;  // SPEC's answer with --compat seed
};

// client.py's test_case list, in order.
constexpr Step kSteps[] = {
    {"127.0.0.1/", "HEAD", "", 200},
    {"127.0.0.1/create", "POST", "1:test1", 201},
    {"127.0.0.1/create", "POST", "2:test2", 201},
    {"127.0.0.1/create", "PUT", "3:test3", 405},
    {"127.0.0.1/", "GET", "", 200},
    {"127.0.0.1/update", "PUT", "1:test5", 200},
    {"127.0.0.1/ComputerNetwork", "POST", "6:test6", 404},
    {"127.0.0.1/", "GET", "", 200},
};

// client.py's request_formatting(), byte for byte.
std::string ClientPyBytes(const Step& s) {
  return std::string(s.method) + " / HTTP/1.1\r\nHost: " + s.url +
         "\r\nConnection: keep-alive\r\nContent-Type: text/html\r\nContent-Length: " +
         std::to_string(std::string_view(s.data).size()) +
         "\r\nUser-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit\r\n\r\n" +
         s.data;
}

// As client.py: a fresh connection per request, one send, read the answer, close.
std::vector<Reply> RunClientPy(uint16_t port) {
  std::vector<Reply> replies;
  for (const Step& s : kSteps) {
    RawClient c(port);
    EXPECT_TRUE(c.connected());
    c.Send(ClientPyBytes(s));
    replies.push_back(c.Read(std::string_view(s.method) == "HEAD"));
  }
  return replies;
}

std::vector<std::string> Args(const TempDir& dir) {
  return {"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data", "--threads", "2"};
}

TEST(OriginalClient, TheBytesAreTheOnesClientPySends) {
  EXPECT_EQ(ClientPyBytes(kSteps[1]),
            "POST / HTTP/1.1\r\nHost: 127.0.0.1/create\r\nConnection: keep-alive\r\n"
            "Content-Type: text/html\r\nContent-Length: 7\r\nUser-Agent: Mozilla/5.0 "
            "(Macintosh; Intel Mac OS X 10_15_7) AppleWebKit\r\n\r\n1:test1");
}

TEST(OriginalClient, WithoutCompatEveryRequestGets400NamingTheFix) {
  TempDir dir;
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(Args(dir))) << srv.log();
  const std::vector<Reply> replies = RunClientPy(srv.port());
  for (size_t i = 0; i < replies.size(); ++i) {
    const Step& s = kSteps[i];
    SCOPED_TRACE(std::string(s.method) + " Host: " + s.url);
    EXPECT_EQ(replies[i].status, 400) << replies[i].head;
    EXPECT_EQ(replies[i].Header("Connection"), "close");
    const std::string path = std::string(s.url).substr(9);  // after "127.0.0.1"
    const std::string reason = "Host header holds a path (\"" + std::string(s.url) +
                               "\"): put the path in the request line: " + s.method + " " + path +
                               " HTTP/1.1 with Host: 127.0.0.1\n";
    if (std::string_view(s.method) == "HEAD") {
      EXPECT_EQ(replies[i].Header("Content-Length"), std::to_string(reason.size()));
    } else {
      EXPECT_EQ(replies[i].body, reason);
    }
  }
  // Nothing was stored.
  EXPECT_EQ(Request(srv.port(), "GET", "/").body, "");
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/1").status, 404);
}

TEST(OriginalClient, WithCompatSeedItGetsSpecsAnswers) {
  TempDir dir;
  ServerProcess srv;
  std::vector<std::string> args = Args(dir);
  args.insert(args.end(), {"--compat", "seed"});
  ASSERT_TRUE(srv.Start(args)) << srv.log();
  const std::vector<Reply> replies = RunClientPy(srv.port());
  for (size_t i = 0; i < replies.size(); ++i) {
    EXPECT_EQ(replies[i].status, kSteps[i].compat_status)
        << kSteps[i].method << " " << kSteps[i].url << "\n"
        << replies[i].head;
  }
  EXPECT_EQ(replies[0].body, "");  // HEAD
  EXPECT_EQ(replies[1].Header("Location"), "/kv/1");
  EXPECT_EQ(replies[3].Header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(replies[4].body, "1:test1\n2:test2\n");
  EXPECT_EQ(replies[7].body, "1:test5\n2:test2\n");
  // Requests in the proper form are unaffected by the flag.
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/1").body, "test5");
  // And the compat rewrite applies only to target "/": any other target stays a 400.
  RawClient c(srv.port());
  c.Send("GET /kv/1 HTTP/1.1\r\nHost: 127.0.0.1/create\r\n\r\n");
  EXPECT_EQ(c.Read().status, 400);
}

TEST(OriginalClient, CompatFlagValueIsChecked) {
  std::string err;
  EXPECT_EQ(RunServerToExit({"--compat", "nginx"}, &err), 2);
  EXPECT_EQ(err.rfind("httpkv-server: ", 0), 0u) << err;
}

}  // namespace
}  // namespace httpkv::e2e
