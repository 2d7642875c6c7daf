// --auth-file over real sockets (in-process server): the scope matrix over every route,
// path tricks that must not reach /admin/* with a lesser token, the 401 challenge, bodies
// of refused requests never read, reload, and tokens absent from the access log.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

const std::string kRead = "rEad-t0ken.AAAAAAAAAAAAAAAAAAAAAAAA";
const std::string kWrite = "wRite-t0ken.BBBBBBBBBBBBBBBBBBBBBBB";
const std::string kAdmin = "aDmin-t0ken.CCCCCCCCCCCCCCCCCCCCCCC";
const std::string kWrong = "rEad-t0ken.AAAAAAAAAAAAAAAAAAAAAAAB";  // one byte off

std::string Bearer(const std::string& token) {
  return token.empty() ? std::string() : "Authorization: Bearer " + token + "\r\n";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = dir_.path() + "/tokens";
    WriteFile(tokens_,
              kRead + " read reader\n" + kWrite + " write writer\n" + kAdmin + " admin root\n");
    auto o = InProcessServer::Options(dir_.path() + "/data", 2);
    o.auth_file = tokens_;
    o.access_log = dir_.path() + "/access.log";
    srv_ = std::make_unique<InProcessServer>(o);
    ASSERT_TRUE(srv_->ok());
  }
  Reply Send(std::string_view method, std::string_view target, const std::string& token,
             std::string_view body = {}) {
    return Request(srv_->port(), method, target, body, Bearer(token));
  }
  // The admin_compact requests /metrics counted with `status` (the admin token reads it).
  std::string AdminCompactLine(int status) {
    const Reply m = Send("GET", "/metrics", kAdmin);
    const std::string label = "route=\"admin_compact\",status=\"" + std::to_string(status) + "\"";
    std::istringstream lines(m.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(label) != std::string::npos) return line;
    }
    return "";
  }

  TempDir dir_;
  std::string tokens_;
  std::unique_ptr<InProcessServer> srv_;
};

enum Need { kOpen, kReadScope, kWriteScope, kAdminScope };

struct Case {
  const char* method;
  const char* target;
  const char* body;
  Need need;
};

// Every route of SPEC "Routes" plus the unknown ones, and the scope each needs.
const Case kCases[] = {
    {"GET", "/", "", kReadScope},
    {"HEAD", "/", "", kReadScope},
    {"GET", "/?prefix=k&limit=1", "", kReadScope},
    {"POST", "/create", "mk:v", kWriteScope},
    {"PUT", "/update", "mk:v2", kWriteScope},
    {"GET", "/create", "", kReadScope},      // 405 for a reader, 401 without a token
    {"PUT", "/create", "a:b", kWriteScope},  // 405 once allowed through
    {"GET", "/kv/mk", "", kReadScope},
    {"HEAD", "/kv/mk", "", kReadScope},
    {"PUT", "/kv/k1", "v", kWriteScope},
    {"DELETE", "/kv/k1", "", kWriteScope},
    {"OPTIONS", "/kv/k1", "", kReadScope},
    {"OPTIONS", "*", "", kReadScope},
    {"PATCH", "/kv/k1", "", kReadScope},  // 501
    {"GET", "/metrics", "", kReadScope},
    {"POST", "/admin/compact", "", kAdminScope},
    {"GET", "/admin/compact", "", kAdminScope},  // 405 only for an admin
    {"GET", "/no/such/route", "", kReadScope},   // 404 only with a token
    {"DELETE", "/no/such/route", "", kWriteScope},
    {"GET", "/healthz", "", kOpen},
    {"HEAD", "/healthz", "", kOpen},
    {"GET", "/readyz", "", kOpen},
};

TEST_F(AuthTest, ScopeMatrixOverEveryRoute) {
  struct Who {
    const std::string* token;
    Need scope;  // kOpen: no valid token
  };
  const std::string none;
  const Who kWho[] = {{&none, kOpen},
                      {&kWrong, kOpen},
                      {&kRead, kReadScope},
                      {&kWrite, kWriteScope},
                      {&kAdmin, kAdminScope}};
  for (const Who& who : kWho) {
    for (const Case& c : kCases) {
      const Reply r = Send(c.method, c.target, *who.token, c.body);
      SCOPED_TRACE(std::string(c.method) + " " + c.target + " with " +
                   (who.token->empty() ? "no token" : who.token->substr(0, 5)));
      if (who.scope >= c.need) {
        EXPECT_NE(r.status, 401);
        EXPECT_NE(r.status, 403);
        EXPECT_GT(r.status, 0);
      } else if (who.scope == kOpen) {
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"httpkv\"");
      } else {
        EXPECT_EQ(r.status, 403);
        EXPECT_EQ(r.Header("WWW-Authenticate"), "");
      }
    }
  }
  // The allowed requests really ran: the writer's PUT /update holds.
  EXPECT_EQ(Send("GET", "/kv/mk", kRead).body, "v2");
}

TEST_F(AuthTest, ChallengeAndReasonsAndKeepAlive) {
  RawClient c(srv_->port());
  c.Send(BuildRequest("GET", "/kv/x"));
  Reply r = c.Read();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"httpkv\"");
  EXPECT_EQ(r.body, "unauthorized: this request needs Authorization: Bearer TOKEN\n");
  // The connection stays usable after a refused complete request.
  c.Send(BuildRequest("GET", "/kv/x", {}, "Authorization: Basic " + kRead + "\r\n"));
  r = c.Read();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "unauthorized: malformed Authorization header (expected one: Bearer TOKEN)\n");
  c.Send(BuildRequest("GET", "/kv/x", {}, Bearer(kWrong)));
  r = c.Read();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "unauthorized: unknown bearer token\n");
  c.Send(BuildRequest("GET", "/kv/x", {}, Bearer(kRead) + Bearer(kRead)));
  EXPECT_EQ(c.Read().status, 401);  // two Authorization headers: ambiguous
  c.Send(BuildRequest("PUT", "/kv/x", "v", Bearer(kRead)));
  r = c.Read();
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "forbidden: this token has the read scope; this request needs write\n");
  c.Send(BuildRequest("PUT", "/kv/x", "v", "authorization: bearer " + kWrite + "\r\n"));
  EXPECT_EQ(c.Read().status, 201);  // header name and scheme are case-insensitive
  c.Send(BuildRequest("HEAD", "/kv/x"));
  r = c.Read(/*head_request=*/true);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
}

// A refused request's body is not waited for: the answer comes as soon as the head is
// in, and the connection closes (the unread body cannot be framed).
TEST_F(AuthTest, RefusedBodyIsNeverReadAndNoContinueIsSent) {
  {
    RawClient c(srv_->port());
    c.Send("PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial");
    const Reply r = c.Read();
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(c.AtEof());
  }
  {
    RawClient c(srv_->port());
    c.Send("PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n" +
           Bearer(kRead) + "\r\n");
    const std::string head = c.ReadHead();
    EXPECT_EQ(head.rfind("HTTP/1.1 403", 0), 0u) << head;  // no "100 Continue" first
  }
  EXPECT_EQ(Send("GET", "/kv/big", kRead).status, 404);
}

// Scope is decided on the route the router dispatches: none of these reaches the
// compaction handler with a read or write token, and nothing crashes.
TEST_F(AuthTest, PathTricksCannotReachAdminWithALesserToken) {
  const char* kTricks[] = {"/admin%2Fcompact",
                           "/admin%2fcompact",
                           "//admin/compact",
                           "/kv/../admin/compact",
                           "/kv/%2e%2e/admin/compact",
                           "/./admin/compact",
                           "/admin/./compact",
                           "/admin//compact",
                           "/admin/compact/",
                           "/ADMIN/compact",
                           "/Admin/Compact",
                           "/admin/COMPACT",
                           "/%61dmin/compact",
                           "/admin/compact%00",
                           "/admin/compact;x",
                           "/admin/compact?x=1",
                           "http://localhost/admin/compact",
                           "/admin/compact#frag"};
  const std::string none;
  for (const std::string* token : {&none, &kWrong, &kRead, &kWrite}) {
    for (const char* path : kTricks) {
      for (const char* method : {"POST", "GET", "PUT", "DELETE"}) {
        const Reply r = Send(method, path, *token, std::string(method) == "PUT" ? "v" : "");
        SCOPED_TRACE(std::string(method) + " " + path);
        EXPECT_GT(r.status, 0);    // answered, server alive
        EXPECT_NE(r.status, 202);  // never "compaction requested"
        if (token->empty() || token == &kWrong) {
          EXPECT_TRUE(r.status == 401 || r.status == 400) << r.status;
        }
      }
    }
  }
  EXPECT_EQ(AdminCompactLine(202), "");  // the handler never ran
  EXPECT_EQ(Send("POST", "/admin/compact", kAdmin).status, 202);
  EXPECT_NE(AdminCompactLine(202), "");  // and the counter does see it when it runs
  EXPECT_EQ(Send("GET", "/healthz", "").status, 200);
}

TEST_F(AuthTest, ReloadSwapsTokensAndABrokenFileKeepsTheOldOnes) {
  RawClient kept(srv_->port());  // an open keep-alive connection sees the new set too
  kept.Send(BuildRequest("GET", "/kv/a", {}, Bearer(kRead)));
  ASSERT_EQ(kept.Read().status, 404);
  const std::string fresh = "fresh-t0ken.DDDDDDDDDDDDDDDDDDDDDDD";
  WriteFile(tokens_, fresh + " write\n" + kAdmin + " admin\n");
  std::string error, warning;
  ASSERT_TRUE(srv_->server()->ReloadAuthFile(&error, &warning)) << error;
  EXPECT_EQ(Send("GET", "/kv/a", kRead).status, 401);  // revoked
  EXPECT_EQ(Send("PUT", "/kv/a", fresh, "v").status, 201);
  kept.Send(BuildRequest("GET", "/kv/a", {}, Bearer(kRead)));
  EXPECT_EQ(kept.Read().status, 401);
  kept.Send(BuildRequest("GET", "/kv/a", {}, Bearer(fresh)));
  EXPECT_EQ(kept.Read().status, 200);

  WriteFile(tokens_, fresh + " write\nbroken\n");
  EXPECT_FALSE(srv_->server()->ReloadAuthFile(&error, &warning));
  EXPECT_EQ(error, tokens_ + " line 2: expected TOKEN SCOPE [NAME], found one field");
  EXPECT_EQ(Send("GET", "/kv/a", fresh).status, 200);  // the old set is still in force
  EXPECT_EQ(Send("POST", "/admin/compact", kAdmin).status, 202);
}

TEST_F(AuthTest, TokensNeverReachTheAccessLog) {
  for (const std::string* t : {&kRead, &kWrite, &kAdmin, &kWrong}) {
    Send("GET", "/kv/a", *t);
    Send("PUT", "/kv/a", *t, "v");
    Send("POST", "/admin/compact", *t);
  }
  Send("GET", "/kv/a", "", "");
  srv_.reset();  // drains, and the access log's writer thread flushes
  const std::string log = ReadFile(dir_.path() + "/access.log");
  EXPECT_NE(log.find("\"GET /kv/a HTTP/1.1\" 401"), std::string::npos) << log;
  EXPECT_NE(log.find("\"PUT /kv/a HTTP/1.1\" 403"), std::string::npos) << log;
  // The remote-user field names the token by its NAME from the file.
  EXPECT_NE(log.find("127.0.0.1 - reader ["), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1 - root ["), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1 - - ["), std::string::npos) << log;  // no or unknown token
  for (const std::string* t : {&kRead, &kWrite, &kAdmin, &kWrong}) {
    EXPECT_EQ(log.find(t->substr(0, 10)), std::string::npos) << *t;
    EXPECT_EQ(log.find(t->substr(t->size() - 10)), std::string::npos) << *t;
  }
}

// Without --auth-file, loopback clients are served as before (protected mode on): every
// other e2e test relies on it. The non-loopback side is in protected_mode_test.cc.
TEST(ProtectedMode, LoopbackPeersAreServed) {
  TempDir dir;
  InProcessServer srv(InProcessServer::Options(dir.path(), 1));
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ(Request(srv.port(), "PUT", "/kv/a", "v").status, 201);
  EXPECT_EQ(Request(srv.port(), "POST", "/admin/compact").status, 202);
}

}  // namespace
}  // namespace httpkv::e2e
