// A node that knows the cluster's placement (PUT /admin/placement, SPEC "Cluster-aware
// clients"): 421 + X-Owner for another node's key on every keyed route, 503 for a key being
// moved in, the mover's X-Key-Move, the file that survives a restart, and the refusals.
// Owners come from placement_ref.py's vectors, not from the server's own code.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <string>

#include "tests/cluster/placement_vectors.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

using placement_vectors::kPlacementVectors;

constexpr std::string_view kThree = "n1,n2,n3";
constexpr std::string_view kMove = "X-Key-Move: 1\r\n";

// /kv/ + the key percent-encoded (the vectors hold binary keys too).
std::string Path(std::string_view key) {
  std::string out = "/kv/";
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// Keys the server takes at all (SPEC: no control characters).
bool Valid(std::string_view key) {
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

class PlacementTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start() {
    srv_.reset();
    srv_ = std::make_unique<InProcessServer>(dir_.path(), 2);
    ASSERT_TRUE(srv_->ok());
  }
  Reply Do(std::string_view method, std::string_view target, std::string_view body = {},
           std::string_view headers = {}) {
    return Request(srv_->port(), method, target, body, headers);
  }
  void Place(std::string_view json) { ASSERT_EQ(Do("PUT", "/admin/placement", json).status, 204); }
  TempDir dir_;
  std::unique_ptr<InProcessServer> srv_;
};

TEST_F(PlacementTest, WithoutPlacementEveryKeyIsServed) {
  EXPECT_EQ(Do("GET", "/admin/placement").body, "{}\n");
  for (const auto& v : kPlacementVectors) {
    if (v.names == kThree && Valid(v.key)) {
      EXPECT_EQ(Do("PUT", Path(v.key), "x").status, 201);
    }
  }
}

TEST_F(PlacementTest, AnotherNodesKeyIs421NamingItsOwnerOnEveryKeyedRoute) {
  Place(R"({"owners": ["n1", "n2", "n3"], "self": "n2"})");
  EXPECT_EQ(Do("GET", "/admin/placement").body,
            "{\"owners\":[\"n1\",\"n2\",\"n3\"],\"self\":\"n2\"}\n");
  int mine = 0, others = 0;
  for (const auto& v : kPlacementVectors) {
    if (v.names != kThree || !Valid(v.key)) continue;
    const std::string key(v.key), path = Path(v.key);
    if (v.owner == "n2") {
      ++mine;
      EXPECT_EQ(Do("PUT", path, "v").status, 201);
      EXPECT_EQ(Do("GET", path).body, "v");
      EXPECT_EQ(Do("PUT", "/update", key + ":w").status, 200);
      EXPECT_EQ(Do("DELETE", path).status, 204);
      continue;
    }
    ++others;
    for (const auto& [method, target, body] :
         {std::tuple<std::string, std::string, std::string>{"GET", path, ""},
          {"HEAD", path, ""},
          {"PUT", path, "v"},
          {"DELETE", path, ""},
          {"POST", "/create", key + ":v"},
          {"PUT", "/update", key + ":v"}}) {
      const Reply r = Request(srv_->port(), method, target, body);
      EXPECT_EQ(r.status, 421) << method << " " << target;
      EXPECT_EQ(r.Header("X-Owner"), v.owner) << method << " " << target;
    }
    // The mover's requests are taken whatever the placement says.
    EXPECT_EQ(Do("PUT", path, "moved", kMove).status, 201);
    EXPECT_EQ(Do("GET", path, {}, kMove).body, "moved");
    EXPECT_EQ(Do("DELETE", path, {}, kMove).status, 204);
  }
  EXPECT_GT(mine, 0);
  EXPECT_GT(others, 0);
  const Reply r = Do("GET", Path(kPlacementVectors[0].key));
  if (r.status == 421) {
    EXPECT_NE(r.body.find("does not own the key"), std::string::npos);
  }
  EXPECT_EQ(Do("GET", "/").status, 200);  // keyless routes are not placed
}

TEST_F(PlacementTest, KeysMovingInAnswer503UntilTheMoveEnds) {
  Place(R"({"owners": ["n1", "n2", "n3"], "before": ["n1", "n2"], "self": "n3"})");
  for (const auto& v : kPlacementVectors) {
    if (v.names != kThree || v.owner != "n3" || !Valid(v.key)) continue;
    const std::string path = Path(v.key);
    const Reply refused = Do("PUT", path, "client");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.Header("Retry-After"), "1");
    EXPECT_EQ(Do("GET", path).status, 503);
    EXPECT_EQ(Do("PUT", path, "copied", kMove).status, 201);
  }
  Place(R"({"owners": ["n1", "n2", "n3"], "self": "n3"})");
  for (const auto& v : kPlacementVectors) {
    if (v.names != kThree || v.owner != "n3" || !Valid(v.key)) continue;
    EXPECT_EQ(Do("GET", Path(v.key)).body, "copied");
  }
}

TEST_F(PlacementTest, ThePlacementSurvivesARestartAndDeleteLiftsIt) {
  Place(R"({"owners": ["n1", "n2", "n3"], "self": "n1"})");
  Start();
  EXPECT_EQ(Do("GET", "/admin/placement").body,
            "{\"owners\":[\"n1\",\"n2\",\"n3\"],\"self\":\"n1\"}\n");
  for (const auto& v : kPlacementVectors) {
    if (v.names == kThree && v.owner != "n1" && Valid(v.key)) {
      EXPECT_EQ(Do("GET", Path(v.key)).status, 421);
    }
  }
  EXPECT_EQ(Do("DELETE", "/admin/placement").status, 204);
  Start();
  EXPECT_EQ(Do("GET", "/admin/placement").body, "{}\n");
  for (const auto& v : kPlacementVectors) {
    if (v.names == kThree && Valid(v.key)) {
      EXPECT_EQ(Do("GET", Path(v.key)).status, 404);
    }
  }
}

TEST_F(PlacementTest, BadPlacementsAre400AndChangeNothing) {
  Place(R"({"owners": ["n1", "n2"], "self": "n1"})");
  for (std::string_view body :
       {"", "not json", R"({"owners": ["n1", "m2"], "self": "n1"})",
        R"({"owners": ["n1", "n2"], "self": "n3"})", R"({"owners": [], "self": "n1"})"}) {
    const Reply r = Do("PUT", "/admin/placement", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.body.rfind("bad placement: ", 0), 0u) << r.body;
    EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << r.body;
  }
  EXPECT_EQ(Do("GET", "/admin/placement").body, "{\"owners\":[\"n1\",\"n2\"],\"self\":\"n1\"}\n");
  EXPECT_EQ(Do("POST", "/admin/placement", "{}").status, 405);
}

TEST(PlacementFileTest, ADamagedFileStopsTheServerFromStarting) {
  TempDir dir;
  std::ofstream(dir.path() + "/placement.json") << R"({"owners": ["n1"], "self": "n9"})";
  InProcessServer srv(dir.path(), 1);
  EXPECT_FALSE(srv.ok());
}

TEST(PlacementAuthTest, TheMoversBypassNeedsAnAdminToken) {
  TempDir dir;
  const std::string write = "wRite-t0ken.BBBBBBBBBBBBBBBBBBBBBBB";
  const std::string admin = "aDmin-t0ken.CCCCCCCCCCCCCCCCCCCCCCC";
  std::ofstream(dir.path() + "/tokens") << write << " write w\n" << admin << " admin a\n";
  auto o = InProcessServer::Options(dir.path() + "/data", 1);
  o.auth_file = dir.path() + "/tokens";
  InProcessServer srv(o);
  ASSERT_TRUE(srv.ok());
  const std::string as_write = "Authorization: Bearer " + write + "\r\n";
  const std::string as_admin = "Authorization: Bearer " + admin + "\r\n";
  EXPECT_EQ(Request(srv.port(), "PUT", "/admin/placement", R"({"owners":["n1","n2"],"self":"n1"})",
                    as_write)
                .status,
            403);
  ASSERT_EQ(Request(srv.port(), "PUT", "/admin/placement", R"({"owners":["n1","n2"],"self":"n1"})",
                    as_admin)
                .status,
            204);
  for (const auto& v : kPlacementVectors) {
    if (v.names != kThree || !Valid(v.key)) continue;
    const std::string path = Path(v.key);
    EXPECT_EQ(Request(srv.port(), "PUT", path, "v", as_write + std::string(kMove)).status, 403);
    EXPECT_EQ(Request(srv.port(), "PUT", path, "v", as_admin + std::string(kMove)).status, 201);
  }
}

}  // namespace
}  // namespace httpkv::e2e
