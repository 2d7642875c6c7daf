// RunScenario against the fake server: one connection, the eight requests in order,
// output lines, --reset and the exit codes.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/client/fake_server.h"
#include "tools/client/scenario.h"

namespace httpkv::client {
namespace {

using fake::CannedReply;
using fake::FakeServer;
using fake::TextReply;

CannedReply Text(int status, std::string_view reason, std::string_view body) {
  return {{TextReply(status, reason, body)}};
}

// SPEC's answers to the eight steps; `step2` replaces the second.
std::vector<CannedReply> SpecReplies(CannedReply step2) {
  return {{{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"}},
          std::move(step2),
          Text(201, "Created", "created /kv/2\n"),
          Text(405, "Method Not Allowed", "PUT is not allowed on /create\n"),
          {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "8\r\n1:test1\n\r\n",
            "8\r\n2:test2\n\r\n0\r\n\r\n"}},
          Text(200, "OK", "updated /kv/1\n"),
          Text(404, "Not Found", "no route for /ComputerNetwork\n"),
          Text(200, "OK", "1:test5\n2:test2\n")};
}

struct Outcome {
  int code;
  std::string out, err;
};

Outcome RunAgainst(FakeServer& server, bool reset) {
  std::string error;
  const auto address = reactor::InetAddress::Parse(server.address(), &error);
  auto client = HttpClient::Connect(*address, server.address(), std::chrono::seconds(5), &error);
  if (!client) return {-1, "", error};
  std::ostringstream out, err;
  const int code = RunScenario(*client, reset, out, err);
  return {code, out.str(), err.str()};
}

TEST(RunScenario, AllAsSpecSaysOnOneConnection) {
  FakeServer server(SpecReplies(Text(201, "Created", "created /kv/1\n")));
  const Outcome run = RunAgainst(server, false);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "[1] HEAD / -> 200 OK\n"
            "[2] POST /create 1:test1 -> 201 Created (created /kv/1)\n"
            "[3] POST /create 2:test2 -> 201 Created (created /kv/2)\n"
            "[4] PUT /create 3:test3 -> 405 Method Not Allowed (PUT is not allowed on /create)\n"
            "[5] GET / -> 200 OK [\"1:test1\", \"2:test2\"]\n"
            "[6] PUT /update 1:test5 -> 200 OK (updated /kv/1)\n"
            "[7] POST /ComputerNetwork 6:test6 -> 404 Not Found (no route for /ComputerNetwork)\n"
            "[8] GET / -> 200 OK [\"1:test5\", \"2:test2\"]\n"
            "scenario: 8/8 steps answered as SPEC says\n");
  EXPECT_EQ(run.err, "");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 8u);
  const auto steps = SeedSteps();
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].method, steps[i].method);
    EXPECT_EQ(seen[i].target, steps[i].target);
    EXPECT_EQ(seen[i].body, steps[i].body);
    EXPECT_EQ(seen[i].connection, 1);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(RunScenario, UsedStoreFailsWithAResetHint) {
  FakeServer server(SpecReplies(Text(409, "Conflict", "key 1 already exists\n")));
  const Outcome run = RunAgainst(server, false);
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.out.find("[2] POST /create 1:test1 -> 409 Conflict (key 1 already exists) "
                         "[expected 201]\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("scenario: 1 of 8 steps differ from SPEC\n"), std::string::npos);
  EXPECT_NE(run.err.find("--reset"), std::string::npos) << run.err;
}

TEST(RunScenario, ResetDeletesTheSeedKeysFirstOnTheSameConnection) {
  std::vector<CannedReply> replies{{{"HTTP/1.1 204 No Content\r\n\r\n"}},
                                   Text(404, "Not Found", "key 2 not found\n"),
                                   {{"HTTP/1.1 204 No Content\r\n\r\n"}},
                                   Text(404, "Not Found", "")};
  for (auto& r : SpecReplies(Text(201, "Created", "created /kv/1\n"))) replies.push_back(r);
  FakeServer server(std::move(replies));
  const Outcome run = RunAgainst(server, true);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("[reset] DELETE /kv/1 -> 204 No Content\n"
                          "[reset] DELETE /kv/2 -> 404 Not Found\n"
                          "[reset] DELETE /kv/3 -> 204 No Content\n"
                          "[reset] DELETE /kv/6 -> 404 Not Found\n"
                          "[1] HEAD / -> 200 OK\n",
                          0),
            0u)
      << run.out;
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 12u);
  EXPECT_EQ(seen[0].method, "DELETE");
  EXPECT_EQ(seen[3].target, "/kv/6");
  EXPECT_EQ(seen[4].method, "HEAD");
  EXPECT_EQ(server.connections(), 1);
}

TEST(RunScenario, ServerGoingAwayMidWayIsAnIoError) {
  std::vector<CannedReply> replies = SpecReplies(Text(201, "Created", "created /kv/1\n"));
  replies.resize(3);  // the server closes after reading the fourth request
  FakeServer server(std::move(replies));
  const Outcome run = RunAgainst(server, false);
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.err,
            "httpkv: step 4 (PUT /create): the server closed the connection without "
            "answering\n");
}

}  // namespace
}  // namespace httpkv::client
