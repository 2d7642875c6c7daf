// `httpkv scenario` (the real client binary) against the real server binary: the seed
// walk-through prints 200/201/201/405/200/200/404/200 with the right lists.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

// Runs the client; returns its exit code and stdout. raw: `args` is the whole command.
int RunClient(const std::string& args, std::string* out, bool raw = false) {
  const std::string cmd = (raw ? args : std::string(HTTPKV_CLIENT_BIN) + " " + args) + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) out->append(buf.data(), n);
  int status = ::pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ScenarioCli, WalkthroughMatchesSpec) {
  TempDir dir;
  ServerProcess srv;
  ASSERT_TRUE(srv.Start({"--listen", "127.0.0.1:0", "--data-dir", dir.path()})) << srv.log();
  const std::string target = "--target 127.0.0.1:" + std::to_string(srv.port());
  std::string out;
  ASSERT_EQ(RunClient(target + " scenario", &out), 0) << out;
  const char* expected[] = {
      "[1] HEAD / -> 200 OK",
      "[2] POST /create 1:test1 -> 201 Created",
      "[3] POST /create 2:test2 -> 201 Created",
      "[4] PUT /create 3:test3 -> 405 Method Not Allowed",
      "[5] GET / -> 200 OK [\"1:test1\", \"2:test2\"]",
      "[6] PUT /update 1:test5 -> 200 OK",
      "[7] POST /ComputerNetwork 6:test6 -> 404 Not Found",
      "[8] GET / -> 200 OK [\"1:test5\", \"2:test2\"]",
      "scenario: 8/8 steps answered as SPEC says",
  };
  for (const char* line : expected)
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;

  // Replayed against the now non-empty store it fails (409), and --reset fixes that.
  std::string again;
  EXPECT_EQ(RunClient(target + " scenario", &again), 1) << again;
  EXPECT_NE(again.find("409"), std::string::npos);
  std::string reset;
  EXPECT_EQ(RunClient(target + " scenario --reset", &reset), 0) << reset;
}

TEST(ScenarioCli, VerboseShowsRawBytes) {
  TempDir dir;
  ServerProcess srv;
  ASSERT_TRUE(srv.Start({"--listen", "127.0.0.1:0", "--data-dir", dir.path()})) << srv.log();
  std::string out;
  ASSERT_EQ(RunClient("-v --target 127.0.0.1:" + std::to_string(srv.port()) + " scenario", &out),
            0);
  EXPECT_NE(out.find("POST /create HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(out.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos);
  EXPECT_NE(out.find("Allow: POST, OPTIONS\r\n"), std::string::npos);
}

TEST(ScenarioCli, SingleCommands) {
  TempDir dir;
  ServerProcess srv;
  ASSERT_TRUE(srv.Start({"--listen", "127.0.0.1:0", "--data-dir", dir.path()})) << srv.log();
  const std::string t = "--target 127.0.0.1:" + std::to_string(srv.port()) + " ";
  std::string out;
  EXPECT_EQ(RunClient(t + "put 'a key' 'a value'", &out), 0) << out;
  out.clear();
  EXPECT_EQ(RunClient(t + "get 'a key'", &out), 0);
  EXPECT_EQ(out, "a value");
  out.clear();
  EXPECT_EQ(RunClient(t + "get missing", &out), 1);
  EXPECT_NE(out.find("404"), std::string::npos);
  out.clear();
  EXPECT_EQ(RunClient(t + "create k:v", &out), 0);
  out.clear();
  EXPECT_EQ(RunClient(t + "list", &out), 0);
  EXPECT_EQ(out, "a key:a value\nk:v\n");
  out.clear();
  EXPECT_EQ(RunClient(t + "delete k", &out), 0);
  out.clear();
  EXPECT_EQ(RunClient("--target 127.0.0.1:1 list", &out), 3) << out;
  out.clear();
  EXPECT_EQ(RunClient("frobnicate", &out), 2) << out;
}

// --token / HTTPKV_TOKEN against a server with --auth-file; -v never shows the token.
TEST(ClientCli, TokenFromFlagOrEnvironment) {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  const std::string token = "cli-t0ken.abcdefghijklmnop";
  { std::ofstream(tokens) << token << " write\n"; }
  ServerProcess srv;
  ASSERT_TRUE(srv.Start(
      {"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data", "--auth-file", tokens}))
      << srv.log();
  const std::string t = "--target 127.0.0.1:" + std::to_string(srv.port()) + " ";
  std::string out;
  EXPECT_EQ(RunClient(t + "put k v", &out), 1) << out;
  EXPECT_NE(out.find("401 Unauthorized"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunClient(t + "--token " + token + " put k v", &out), 0) << out;
  out.clear();
  EXPECT_EQ(RunClient("-v " + t + "--token " + token + " get k", &out), 0) << out;
  EXPECT_NE(out.find("Authorization: Bearer <redacted>"), std::string::npos) << out;
  EXPECT_EQ(out.find(token), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(
      RunClient("HTTPKV_TOKEN=" + token + " " + std::string(HTTPKV_CLIENT_BIN) + " " + t + "list",
                &out, /*raw=*/true),
      0)
      << out;
  EXPECT_EQ(out, "k:v\n");
  out.clear();
  EXPECT_EQ(RunClient(t + "--token 'a b' list", &out), 2) << out;
  srv.Signal(SIGTERM);
  EXPECT_EQ(srv.Wait(), 0);
}

}  // namespace
}  // namespace httpkv::e2e
