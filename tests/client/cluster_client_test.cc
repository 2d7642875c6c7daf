// httpkv --cluster's pieces without a cluster: the stale-map retry of ClusterRoundTrip
// against fake members (421 + X-Primary, 503, a refused connection), `owner`, and the
// merged watch cursor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/client/fake_server.h"
#include "tools/client/cluster_commands.h"
#include "tools/client/cluster_watch.h"

namespace httpkv::client {
namespace {

using fake::CannedReply;
using fake::FakeServer;
using fake::TextReply;

class ClusterFile {
 public:
  ClusterFile() {
    char name[] = "/tmp/httpkv-cluster-test.XXXXXX";
    const int fd = ::mkstemp(name);
    ::close(fd);
    path_ = name;
  }
  ~ClusterFile() { std::remove(path_.c_str()); }
  // One shard s1 of members n1, n2 (replicated), or nodes n1, n2.
  void Write(const std::string& a1, const std::string& a2, bool replicated) {
    const std::string s = replicated ? R"(, "shard": "s1")" : "";
    std::ofstream(path_) << R"({"front": "127.0.0.1:1", "nodes": [{"name": "n1", "addr": ")" << a1
                         << '"' << s << R"(}, {"name": "n2", "addr": ")" << a2 << '"' << s << "}]}";
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

AddressConnector Connector() {
  return [](const std::string& addr, std::string* error) -> std::optional<HttpClient> {
    const auto a = reactor::InetAddress::Parse(addr, error);
    if (!a) return std::nullopt;
    return HttpClient::Connect(*a, addr, std::chrono::seconds(5), error);
  };
}

CannedReply Reply(std::string text) {
  return CannedReply{{std::move(text)}, false};
}

// A port nothing listens on (bound, never listened: connect is refused).
std::string DeadAddress() {
  FakeServer gone({});
  return gone.address();  // closed when `gone` goes
}

TEST(ClusterRoundTrip, FollowsXPrimaryOf421) {
  FakeServer n2({Reply(TextReply(204, "No Content", ""))});
  FakeServer n1({Reply(TextReply(200, "OK", "primary\n")),  // Load's GET /primary: stale
                 Reply("HTTP/1.1 421 Misdirected Request\r\nX-Primary: " + n2.address() +
                       "\r\nContent-Length: 0\r\n\r\n")});
  ClusterFile file;
  file.Write(n1.address(), n2.address(), true);
  cluster::Routes routes;
  std::string error;
  ASSERT_TRUE(routes.Load(file.path(), std::chrono::seconds(2), &error)) << error;
  ClientResponse resp;
  ASSERT_TRUE(ClusterRoundTrip(routes, "k", PutKeyRequest("k", "v"), Connector(), &resp, &error))
      << error;
  EXPECT_EQ(resp.status, 204);
  ASSERT_EQ(n2.requests().size(), 1u);
  EXPECT_EQ(n2.requests()[0].target, "/kv/k");
  EXPECT_EQ(routes.AddressOf(0), n2.address());  // cached for the next request
}

TEST(ClusterRoundTrip, RefindsThePrimaryAfter503) {
  FakeServer n2({Reply(TextReply(200, "OK", "primary\n")), Reply(TextReply(201, "Created", ""))});
  FakeServer n1({Reply(TextReply(200, "OK", "primary\n")), Reply(TextReply(503, "No", "election")),
                 Reply(TextReply(503, "No", "not primary\n"))});
  ClusterFile file;
  file.Write(n1.address(), n2.address(), true);
  cluster::Routes routes;
  std::string error;
  ASSERT_TRUE(routes.Load(file.path(), std::chrono::seconds(2), &error)) << error;
  ClientResponse resp;
  ASSERT_TRUE(ClusterRoundTrip(routes, "k", PutKeyRequest("k", "v"), Connector(), &resp, &error));
  EXPECT_EQ(resp.status, 201);
  EXPECT_EQ(n1.requests().back().target, "/primary");
}

TEST(ClusterRoundTrip, RereadsTheFileWhenRefusedAndRetriesOnce) {
  FakeServer moved({Reply(TextReply(200, "OK", "v"))});
  ClusterFile file;
  const std::string dead = DeadAddress();
  file.Write(dead, dead, false);
  cluster::Routes routes;
  std::string error;
  ASSERT_TRUE(routes.Load(file.path(), std::chrono::seconds(2), &error)) << error;
  const std::string key = routes.map().placement().Owner("a") == "n1" ? "a" : "b";
  ASSERT_EQ(routes.map().placement().Owner(key), "n1");
  file.Write(moved.address(), dead, false);  // n1 restarted elsewhere
  ClientResponse resp;
  ASSERT_TRUE(ClusterRoundTrip(routes, key, GetKeyRequest(key), Connector(), &resp, &error))
      << error;
  EXPECT_EQ(resp.body, "v");
  file.Write(dead, dead, false);  // and gone again: one retry only, then the error
  EXPECT_FALSE(ClusterRoundTrip(routes, key, GetKeyRequest(key), Connector(), &resp, &error));
}

// cluster.sh add moved the key: its old node answers 421 + X-Owner; the client places the key
// again over FILE as it is now ("placement" gained n2) and sends it there, once.
TEST(ClusterRoundTrip, PlacesTheKeyAgainAfterXOwner) {
  std::string key;
  for (const char* k : {"a", "b", "c", "d", "e", "f", "g", "h"}) {
    if (cluster::Placement({"n1", "n2"}).Owner(k) == "n2") key = k;
  }
  ASSERT_FALSE(key.empty());
  FakeServer n2({Reply(TextReply(204, "No Content", ""))});
  FakeServer n1(
      {Reply("HTTP/1.1 421 Misdirected Request\r\nX-Owner: n2\r\n"
             "Content-Length: 0\r\n\r\n")});
  ClusterFile file;
  auto write = [&](const char* placement) {
    std::ofstream(file.path()) << R"({"front": "127.0.0.1:1", "placement": )" << placement
                               << R"(, "nodes": [{"name": "n1", "addr": ")" << n1.address()
                               << R"("}, {"name": "n2", "addr": ")" << n2.address() << R"("}]})";
  };
  write(R"(["n1"])");  // n2 is joining
  cluster::Routes routes;
  std::string error;
  ASSERT_TRUE(routes.Load(file.path(), std::chrono::seconds(2), &error)) << error;
  write(R"(["n1", "n2"])");  // the move's freeze: n2 owns its keys
  ClientResponse resp;
  ASSERT_TRUE(ClusterRoundTrip(routes, key, PutKeyRequest(key, "v"), Connector(), &resp, &error))
      << error;
  EXPECT_EQ(resp.status, 204);
  ASSERT_EQ(n1.requests().size(), 1u);
  ASSERT_EQ(n2.requests().size(), 1u);
  EXPECT_EQ(n2.requests()[0].target, "/kv/" + key);
}

TEST(ClusterOwners, KeysFromArgumentsAndStdin) {
  cluster::ClusterMap map;
  std::string error;
  ASSERT_TRUE(cluster::ClusterMap::Parse(
      R"({"front": "f:1", "nodes": [{"name": "n1", "addr": "a:1"}, {"name": "n2", "addr": "a:2"}]})",
      &map, &error));
  std::istringstream in("key-0\nkey-1\n");
  std::ostringstream out;
  EXPECT_EQ(RunOwners(map, {"key-2", "-"}, in, out), 0);
  const cluster::Placement& p = map.placement();
  EXPECT_EQ(out.str(), p.Owner("key-2") + "\n" + p.Owner("key-0") + "\n" + p.Owner("key-1") + "\n");
  EXPECT_EQ(PairKey("k:v:w"), "k");
  EXPECT_EQ(PairKey("nocolon"), "nocolon");
}

TEST(ClusterWatch, CursorRoundTrips) {
  const std::vector<std::string> owners = {"n1", "n2", "n3"};
  std::vector<std::optional<uint64_t>> since;
  std::string error;
  ASSERT_TRUE(ParseClusterSince("n1=120,n3=98", owners, &since, &error)) << error;
  EXPECT_EQ(since, (std::vector<std::optional<uint64_t>>{120, std::nullopt, 98}));
  EXPECT_EQ(ClusterCursor(owners, since), "n1=120,n3=98");
  ASSERT_TRUE(ParseClusterSince("0", owners, &since, &error));
  EXPECT_EQ(ClusterCursor(owners, since), "n1=0,n2=0,n3=0");
  ASSERT_TRUE(ParseClusterSince("", owners, &since, &error));
  EXPECT_EQ(ClusterCursor(owners, since), "");
  EXPECT_FALSE(ParseClusterSince("n4=1", owners, &since, &error));
  EXPECT_FALSE(ParseClusterSince("n1=x", owners, &since, &error));
  EXPECT_FALSE(ParseClusterSince("n1", owners, &since, &error));
}

}  // namespace
}  // namespace httpkv::client
