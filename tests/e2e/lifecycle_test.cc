// The real binary: flags, lock, SIGTERM drain, restart and kill -9 durability.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

std::vector<std::string> Args(const TempDir& dir, const std::string& fsync = "everysec") {
  return {"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data",
          "--fsync",  fsync,         "--threads",  "2"};
}

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Lifecycle, BadFlagsExitTwoWithOneLine) {
  for (std::vector<std::string> bad :
       {std::vector<std::string>{"--fsync", "sometimes"},
        {"--threads", "0"},
        {"--no-such-flag"},
        {"--listen", "nocolon"},
        {"--max-value", "-1"},
        // Replication: each needs the others, and the timing rule.
        {"--shard", "s1"},
        {"--sync", "1"},
        {"--shard", "s1", "--etcd", "https://127.0.0.1:2379"},
        {"--shard", "s1", "--etcd", "http://127.0.0.1:2379", "--listen", "127.0.0.1:0"},
        {"--shard", "a b", "--etcd", "http://127.0.0.1:2379", "--listen", "127.0.0.1:9"},
        {"--shard", "s1", "--etcd", "http://127.0.0.1:2379", "--listen", "127.0.0.1:9",
         "--leader-ttl", "2"}}) {
    std::string err;
    EXPECT_EQ(RunServerToExit(bad, &err), 2) << bad[0];
    EXPECT_EQ(Lines(err), 1u) << err;
    EXPECT_EQ(err.rfind("httpkv-server: ", 0), 0u) << err;
  }
}

TEST(Lifecycle, SigtermDrainsAndExitsZeroThenDataSurvivesRestart) {
  TempDir dir;
  {
    ServerProcess p;
    ASSERT_TRUE(p.Start(Args(dir))) << p.log();
    EXPECT_EQ(Request(p.port(), "POST", "/create", "1:test1").status, 201);
    EXPECT_EQ(Request(p.port(), "PUT", "/kv/x", "y").status, 201);
    RawClient idle(p.port());  // an idle keep-alive connection must not hold up the exit
    idle.Send(BuildRequest("GET", "/healthz"));
    ASSERT_EQ(idle.Read().status, 200);
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(), 0) << p.log();
    EXPECT_NE(p.log().find("stopped cleanly"), std::string::npos);
    EXPECT_TRUE(idle.AtEof());
  }
  ServerProcess p;
  ASSERT_TRUE(p.Start(Args(dir))) << p.log();
  EXPECT_EQ(Request(p.port(), "GET", "/").body, "1:test1\nx:y\n");
  p.Signal(SIGINT);
  EXPECT_EQ(p.Wait(), 0);
}

// The connection cap is logged at start-up; one the descriptor limit cannot hold is
// lowered with a warning (no kernel allows 10 million descriptors per process).
TEST(Lifecycle, StartUpLogsTheConnectionCapAndLowersAnImpossibleOne) {
  TempDir dir;
  {
    ServerProcess p;
    ASSERT_TRUE(p.Start(Args(dir))) << p.log();
    EXPECT_NE(p.log().find("max-connections="), std::string::npos) << p.log();
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(), 0) << p.log();
  }
  auto args = Args(dir);
  args.insert(args.end(), {"--max-connections", "10000000"});
  ServerProcess p;
  ASSERT_TRUE(p.Start(args)) << p.log();
  EXPECT_NE(p.log().find("--max-connections 10000000 needs"), std::string::npos) << p.log();
  EXPECT_NE(p.log().find("lowered to"), std::string::npos) << p.log();
  EXPECT_EQ(Request(p.port(), "GET", "/healthz").status, 200);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.log();
}

TEST(Lifecycle, SigtermNeverCutsAResponseMidBody) {
  TempDir dir;
  ServerProcess p;
  ASSERT_TRUE(p.Start(Args(dir))) << p.log();
  {
    RawClient loader(p.port());
    std::string batch;
    for (int i = 0; i < 3000; ++i) {
      batch += BuildRequest("PUT", "/kv/k" + std::to_string(10000 + i), std::string(1000, 'v'));
    }
    loader.Send(batch);
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(loader.Read().status, 201);
  }
  // A ~3 MB streamed listing: far more than the socket buffers hold, so most of it is
  // still inside the server when SIGTERM arrives.
  RawClient c(p.port());
  c.Send(BuildRequest("GET", "/"));
  const std::string head = c.ReadHead();
  ASSERT_NE(head.find("HTTP/1.1 200 OK"), std::string::npos) << head;
  p.Signal(SIGTERM);
  ASSERT_TRUE(p.WaitForLog("draining"));
  const std::string rest = c.ReadToEof();  // the server closes only after the last chunk
  {
    // Re-parse head + rest as one response: it must be complete.
    std::string whole = head + rest;
    http::ResponseParser parser;
    http::Response resp;
    auto res = parser.Parse(std::span<char>(whole.data(), whole.size()), false, &resp);
    ASSERT_EQ(res.kind, http::ParseResult::kComplete) << "response cut after " << whole.size();
    EXPECT_EQ(res.consumed, whole.size());
    EXPECT_EQ(resp.body.size(), 3000u * (6 + 1 + 1000 + 1));
  }
  EXPECT_EQ(p.Wait(), 0) << p.log();
}

TEST(Lifecycle, AcknowledgedWritesSurviveKillNine) {
  for (const char* fsync : {"never", "everysec", "always"}) {
    TempDir dir;
    {
      ServerProcess p;
      ASSERT_TRUE(p.Start(Args(dir, fsync))) << p.log();
      RawClient c(p.port());
      for (int i = 0; i < 200; ++i) {
        c.Send(BuildRequest("PUT", "/kv/k" + std::to_string(i), std::string(100, 'a' + i % 26)));
        ASSERT_EQ(c.Read().status, 201);
      }
      p.Signal(SIGKILL);
      EXPECT_EQ(p.Wait(), 128 + SIGKILL);
    }
    ServerProcess p;
    ASSERT_TRUE(p.Start(Args(dir, fsync))) << p.log();
    RawClient c(p.port());
    for (int i = 0; i < 200; ++i) {
      c.Send(BuildRequest("GET", "/kv/k" + std::to_string(i)));
      ASSERT_EQ(c.Read().body, std::string(100, 'a' + i % 26)) << fsync << " key " << i;
    }
  }
}

TEST(Lifecycle, TornTailIsCutAndLogged) {
  TempDir dir;
  {
    ServerProcess p;
    ASSERT_TRUE(p.Start(Args(dir))) << p.log();
    EXPECT_EQ(Request(p.port(), "PUT", "/kv/a", "1").status, 201);
    EXPECT_EQ(Request(p.port(), "PUT", "/kv/b", "2").status, 201);
    p.Signal(SIGTERM);
    ASSERT_EQ(p.Wait(), 0);
  }
  // Simulate a crash mid-append: half a record at the end of the log.
  const auto log = std::filesystem::path(dir.path()) / "data" / "00000001.log";
  const auto size = std::filesystem::file_size(log);
  std::filesystem::resize_file(log, size - 3);
  ServerProcess p;
  ASSERT_TRUE(p.Start(Args(dir))) << p.log();
  EXPECT_NE(p.log().find("torn tail"), std::string::npos) << p.log();
  EXPECT_EQ(Request(p.port(), "GET", "/kv/a").body, "1");
  EXPECT_EQ(Request(p.port(), "GET", "/kv/b").status, 404);
}

TEST(Lifecycle, SecondServerOnSameDirIsRefused) {
  TempDir dir;
  ServerProcess first;
  ASSERT_TRUE(first.Start(Args(dir))) << first.log();
  std::string err;
  EXPECT_EQ(RunServerToExit(Args(dir), &err), 2);
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
  EXPECT_EQ(Request(first.port(), "GET", "/healthz").status, 200);
}

TEST(Lifecycle, BusyPortIsOneLineAndTouchesNoData) {
  TempDir dir;
  ServerProcess first;
  ASSERT_TRUE(first.Start(Args(dir))) << first.log();
  std::string err;
  const std::string other = dir.path() + "/other";
  EXPECT_EQ(
      RunServerToExit(
          {"--listen", "127.0.0.1:" + std::to_string(first.port()), "--data-dir", other}, &err),
      1);
  EXPECT_EQ(Lines(err), 1u) << err;
  EXPECT_FALSE(std::filesystem::exists(other));
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(Lifecycle, AccessLogLinesAndReopenOnSighup) {
  TempDir dir;
  const std::string log = dir.path() + "/access.log";
  auto args = Args(dir);
  args.insert(args.end(), {"--access-log", log});
  ServerProcess p;
  ASSERT_TRUE(p.Start(args)) << p.log();
  EXPECT_EQ(Request(p.port(), "PUT", "/kv/a", "12345").status, 201);
  EXPECT_EQ(Request(p.port(), "GET", "/kv/a", {}, "User-Agent: test-agent\r\n").status, 200);
  std::filesystem::rename(log, log + ".1");  // what logrotate does
  p.Signal(SIGHUP);
  ASSERT_TRUE(p.WaitForLog("reopened the access log"));
  EXPECT_EQ(Request(p.port(), "GET", "/kv/missing").status, 404);
  p.Signal(SIGTERM);
  ASSERT_EQ(p.Wait(), 0) << p.log();
  const std::string rotated = ReadFile(log + ".1"), fresh = ReadFile(log);
  EXPECT_EQ(Lines(rotated) + Lines(fresh), 3u) << rotated << fresh;
  EXPECT_NE(fresh.find("\"GET /kv/missing HTTP/1.1\" 404 "), std::string::npos) << fresh;
  const std::string all = rotated + fresh;
  EXPECT_NE(all.find("127.0.0.1 - - ["), std::string::npos) << all;
  const std::regex stamp(R"(127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] )");
  EXPECT_TRUE(std::regex_search(all, stamp)) << all;
  EXPECT_NE(all.find("\"GET /kv/a HTTP/1.1\" 200 5 \"-\" \"test-agent\" "), std::string::npos)
      << all;
}

TEST(Lifecycle, UnwritableAccessLogIsOneLineExitTwo) {
  TempDir dir;
  const std::string not_a_dir = dir.path() + "/plain-file";
  std::ofstream(not_a_dir) << "x";
  auto args = Args(dir);
  args.insert(args.end(), {"--access-log", not_a_dir + "/access.log"});
  std::string err;
  EXPECT_EQ(RunServerToExit(args, &err), 2);
  EXPECT_EQ(Lines(err), 1u) << err;
}

}  // namespace
}  // namespace httpkv::e2e
