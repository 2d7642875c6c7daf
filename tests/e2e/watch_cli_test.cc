// `httpkv put --ttl` and `httpkv watch` (the real client binary) against an in-process server.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

int RunClient(const std::string& args, std::string* out) {
  const std::string cmd = std::string(HTTPKV_CLIENT_BIN) + " " + args + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) out->append(buf.data(), n);
  const int status = ::pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(WatchCli, PutWithTtlAndWatchPrintsEventsAsTheyCome) {
  TempDir dir;
  auto srv = std::make_unique<InProcessServer>(dir.path());
  ASSERT_TRUE(srv->ok());
  const std::string target = "--target 127.0.0.1:" + std::to_string(srv->port());
  std::string out;
  ASSERT_EQ(RunClient(target + " put k1 hello --ttl 60", &out), 0) << out;
  EXPECT_EQ(Request(srv->port(), "GET", "/kv/k1").Header("X-Expires-In"), "60");
  out.clear();
  EXPECT_EQ(RunClient(target + " put k1 hello --ttl 0", &out), 2) << out;
  ASSERT_EQ(Request(srv->port(), "PUT", "/kv/other", "x").status, 201);

  const std::string cmd =
      std::string(HTTPKV_CLIENT_BIN) + " " + target + " watch --prefix k --since 0 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string got;
  std::array<char, 256> line;
  // History first (k1's put; "other" filtered out), then a live write.
  for (int i = 0; i < 4 && std::fgets(line.data(), line.size(), f); ++i) got += line.data();
  EXPECT_EQ(got, "id: 1\nevent: put\ndata: {\"key\":\"k1\",\"seq\":1,\"value\":\"hello\"}\n\n");
  ASSERT_EQ(Request(srv->port(), "DELETE", "/kv/k1").status, 204);
  got.clear();
  for (int i = 0; i < 4 && std::fgets(line.data(), line.size(), f); ++i) got += line.data();
  EXPECT_EQ(got, "id: 3\nevent: delete\ndata: {\"key\":\"k1\",\"seq\":3}\n\n");
  srv.reset();  // the server ends the stream: the client exits 0
  std::string rest;
  while (std::fgets(line.data(), line.size(), f)) rest += line.data();
  EXPECT_EQ(rest, "httpkv: server shutting down\n");
  const int status = ::pclose(f);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace httpkv::e2e
