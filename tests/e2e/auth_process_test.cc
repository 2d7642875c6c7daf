// --auth-file and --protected-mode on the real binary: a bad token file or flag is one
// line and exit 2 with nothing served or created, SIGHUP re-reads the file (a broken one
// keeps the old tokens and says why), and no token appears on stderr or in the access log.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

const std::string kOld = "old-t0ken.QQQQQQQQQQQQQQQQQQQQ";
const std::string kNew = "new-t0ken.ZZZZZZZZZZZZZZZZZZZZ";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
  ::chmod(path.c_str(), 0600);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(AuthProcess, BadTokenFileIsOneLineWithItsNumberAndExitTwo) {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, "# ok\n" + kOld + " read\n" + kNew + " owner\n");
  std::string err;
  const std::string data = dir.path() + "/data";
  EXPECT_EQ(
      RunServerToExit({"--listen", "127.0.0.1:0", "--data-dir", data, "--auth-file", tokens}, &err),
      2);
  EXPECT_EQ(err, "httpkv-server: --auth-file " + tokens +
                     " line 3: unknown scope \"owner\" (expected read, write or admin)\n");
  EXPECT_FALSE(std::filesystem::exists(data));  // nothing touched, nothing served
  EXPECT_EQ(RunServerToExit({"--listen", "127.0.0.1:0", "--data-dir", data, "--auth-file",
                             dir.path() + "/missing"},
                            &err),
            2);
  EXPECT_EQ(Lines(err), 1u) << err;
  EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
  EXPECT_EQ(RunServerToExit({"--protected-mode", "maybe"}, &err), 2);
  EXPECT_EQ(Lines(err), 1u) << err;
  EXPECT_EQ(err.rfind("httpkv-server: --protected-mode", 0), 0u) << err;
  EXPECT_EQ(err.find(kOld), std::string::npos);
}

TEST(AuthProcess, SighupReloadsTokensAndABrokenFileKeepsTheOldOnes) {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  const std::string access = dir.path() + "/access.log";
  WriteFile(tokens, kOld + " write old\n");
  ServerProcess p;
  ASSERT_TRUE(p.Start({"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data", "--threads",
                       "2", "--auth-file", tokens, "--access-log", access, "--log-level", "debug"}))
      << p.log();
  EXPECT_NE(p.log().find("auth: 1 tokens from " + tokens), std::string::npos) << p.log();
  EXPECT_EQ(Request(p.port(), "PUT", "/kv/a", "1", Bearer(kOld)).status, 201);
  EXPECT_EQ(Request(p.port(), "PUT", "/kv/a", "1", Bearer(kNew)).status, 401);
  EXPECT_EQ(Request(p.port(), "GET", "/healthz").status, 200);

  WriteFile(tokens, kNew + " read new\n");
  p.Signal(SIGHUP);
  ASSERT_TRUE(p.WaitForLog("SIGHUP: reloaded 1 tokens from " + tokens)) << p.log();
  EXPECT_EQ(Request(p.port(), "GET", "/kv/a", {}, Bearer(kOld)).status, 401);
  EXPECT_EQ(Request(p.port(), "GET", "/kv/a", {}, Bearer(kNew)).status, 200);
  EXPECT_EQ(Request(p.port(), "PUT", "/kv/a", "2", Bearer(kNew)).status, 403);

  WriteFile(tokens, kNew + " read\n" + kOld + " wrte\n");
  p.Signal(SIGHUP);
  ASSERT_TRUE(
      p.WaitForLog("SIGHUP: kept the previous tokens: " + tokens + " line 2: unknown scope"))
      << p.log();
  EXPECT_EQ(Request(p.port(), "GET", "/kv/a", {}, Bearer(kNew)).status, 200);
  EXPECT_EQ(Request(p.port(), "GET", "/kv/a", {}, Bearer(kOld)).status, 401);

  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.log();
  const std::string access_text = ReadFile(access);
  EXPECT_NE(access_text.find("\"GET /kv/a HTTP/1.1\" 200"), std::string::npos) << access_text;
  for (const std::string& t : {kOld, kNew}) {
    EXPECT_EQ(p.log().find(t.substr(0, 9)), std::string::npos) << p.log();
    EXPECT_EQ(p.log().find(t.substr(t.size() - 12)), std::string::npos) << p.log();
    EXPECT_EQ(access_text.find(t.substr(0, 9)), std::string::npos) << access_text;
    EXPECT_EQ(access_text.find(t.substr(t.size() - 12)), std::string::npos) << access_text;
  }
}

TEST(AuthProcess, WarnsAboutATokenFileOthersCanRead) {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, kOld + " read\n");
  ::chmod(tokens.c_str(), 0644);
  ServerProcess p;
  ASSERT_TRUE(p.Start(
      {"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data", "--auth-file", tokens}))
      << p.log();
  EXPECT_NE(p.log().find(tokens + " is accessible by other users (mode 0644); chmod 600 it"),
            std::string::npos)
      << p.log();
  EXPECT_EQ(Request(p.port(), "GET", "/", {}, Bearer(kOld)).status, 200);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0);
}

TEST(AuthProcess, StartupLogSaysWhoIsServed) {
  TempDir dir;
  ServerProcess p;
  ASSERT_TRUE(p.Start({"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data"}));
  EXPECT_NE(p.log().find("protected mode: only loopback clients are answered"), std::string::npos)
      << p.log();
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0);
  ServerProcess open;
  ASSERT_TRUE(open.Start(
      {"--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/data", "--protected-mode", "off"}));
  EXPECT_NE(open.log().find("--protected-mode off without --auth-file"), std::string::npos)
      << open.log();
  open.Signal(SIGTERM);
  EXPECT_EQ(open.Wait(), 0);
}

}  // namespace
}  // namespace httpkv::e2e
