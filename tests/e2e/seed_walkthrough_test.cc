// The original assignment's eight requests, on one keep-alive connection, with the
// statuses and listings SPEC gives.
#include <gtest/gtest.h>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

TEST(SeedWalkthrough, EightStepsOnOneConnection) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  RawClient c(srv.port());
  ASSERT_TRUE(c.connected());

  struct Step {
    const char* method;
    const char* target;
    const char* body;
    int status;
    const char* listing;  // expected body for GET /, else nullptr
  };
  const Step steps[] = {
      {"HEAD", "/", "", 200, nullptr},
      {"POST", "/create", "1:test1", 201, nullptr},
      {"POST", "/create", "2:test2", 201, nullptr},
      {"PUT", "/create", "3:test3", 405, nullptr},
      {"GET", "/", "", 200, "1:test1\n2:test2\n"},
      {"PUT", "/update", "1:test5", 200, nullptr},
      {"POST", "/ComputerNetwork", "6:test6", 404, nullptr},
      {"GET", "/", "", 200, "1:test5\n2:test2\n"},
  };
  for (const Step& s : steps) {
    c.Send(BuildRequest(s.method, s.target, s.body));
    Reply r = c.Read(std::string_view(s.method) == "HEAD");
    EXPECT_EQ(r.status, s.status) << s.method << " " << s.target;
    if (s.listing) {
      EXPECT_EQ(r.body, s.listing);
    }
    if (s.status == 201) {
      EXPECT_EQ(r.Header("Location"), std::string("/kv/") + s.body[0]);
    }
    if (s.status == 405) {
      EXPECT_EQ(r.Header("Allow"), "POST, OPTIONS");
    }
    EXPECT_FALSE(r.Header("Date").empty());
  }
}

TEST(SeedWalkthrough, HeadCarriesTheListingLength) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  ASSERT_EQ(Request(srv.port(), "POST", "/create", "k:v").status, 201);
  Reply get = Request(srv.port(), "GET", "/");
  Reply head = Request(srv.port(), "HEAD", "/");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("Content-Length"), std::to_string(get.body.size()));
}

TEST(SeedWalkthrough, CreateOfExistingKeyConflicts) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ(Request(srv.port(), "POST", "/create", "1:a").status, 201);
  EXPECT_EQ(Request(srv.port(), "POST", "/create", "1:b").status, 409);
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/1").body, "a");
}

TEST(SeedWalkthrough, UpdateOfMissingKeyIsNotFound) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ(Request(srv.port(), "PUT", "/update", "9:x").status, 404);
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/9").status, 404);
}

TEST(SeedWalkthrough, MalformedKeyValueBodiesAreRejected) {
  TempDir dir;
  InProcessServer srv(dir.path());
  ASSERT_TRUE(srv.ok());
  Reply no_colon = Request(srv.port(), "POST", "/create", "novalue");
  EXPECT_EQ(no_colon.status, 400);
  EXPECT_EQ(no_colon.body, "body must be key:value\n");
  EXPECT_EQ(Request(srv.port(), "POST", "/create", ":v").status, 400);
  EXPECT_EQ(Request(srv.port(), "PUT", "/update", ":v").status, 400);
  EXPECT_EQ(Request(srv.port(), "POST", "/create", std::string(1025, 'k') + ":v").status, 400);
  EXPECT_EQ(Request(srv.port(), "POST", "/create", std::string("a\x01:v")).status, 400);
  // The value is everything after the first colon.
  EXPECT_EQ(Request(srv.port(), "POST", "/create", "url:http://x:80").status, 201);
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/url").body, "http://x:80");
  EXPECT_EQ(Request(srv.port(), "GET", "/").body, "url:http://x:80\n");
}

}  // namespace
}  // namespace httpkv::e2e
