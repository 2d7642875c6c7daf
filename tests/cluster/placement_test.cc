// httpkv_cluster: xxh32 and the placement rule against vectors computed by the independent
// tests/cluster/placement_ref.py (gen_placement_vectors.py), and cluster.json parsing.
#include "server/placement/placement.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_map.h"
#include "server/placement/xxh32.h"
#include "tests/cluster/placement_vectors.h"

namespace httpkv::cluster {
namespace {

using placement::Xxh32;

using namespace placement_vectors;  // NOLINT(google-build-using-namespace)

TEST(Xxh32, KnownVectors) {
  const std::string base = std::string(kBase) + std::string(kBase) + std::string(kBase);
  for (const Xxh32Vector& v : kXxh32Vectors) {
    EXPECT_EQ(Xxh32(std::string_view(base).substr(0, v.length), v.seed), v.expected)
        << "length " << v.length << " seed " << v.seed;
  }
}

TEST(Xxh32, PublishedValues) {  // the xxHash reference's own test values
  EXPECT_EQ(Xxh32("", 0), 0x02cc5d05u);
  EXPECT_EQ(Xxh32("abc", 0), 0x32d153ffu);
}

TEST(Placement, SeedOfName) {
  EXPECT_EQ(PlacementSeed("n1"), 1u);
  EXPECT_EQ(PlacementSeed("s12"), 12u);
  EXPECT_EQ(PlacementSeed("x1"), 0u);
  EXPECT_EQ(PlacementSeed("n"), 0u);
  EXPECT_EQ(PlacementSeed("n1a"), 0u);
}

TEST(Placement, MatchesReference) {
  for (const PlacementVector& v : kPlacementVectors) {
    const Placement p(Split(v.names));
    EXPECT_EQ(p.Owner(v.key), v.owner) << v.names << " key " << v.key;
  }
}

TEST(Placement, EqualSeedsKeepTheFirst) {
  const Placement p({"n1", "s1"});  // same K: every score ties
  for (std::string_view key : {"a", "b", "key-7"}) EXPECT_EQ(p.Owner(key), "n1");
}

TEST(ClusterMap, NodesWithoutReplicas) {
  ClusterMap m;
  std::string error;
  ASSERT_TRUE(ClusterMap::Parse(
      R"({"front": "127.0.0.1:9000", "haproxy_pid": 12, "nodes": [
         {"name": "n2", "addr": "127.0.0.3:2", "pid": 5, "data_dir": "/d/n2"},
         {"name": "n1", "addr": "127.0.0.2:1", "pid": 4, "data_dir": "/d/n1"}]})",
      &m, &error))
      << error;
  EXPECT_EQ(m.front(), "127.0.0.1:9000");
  EXPECT_FALSE(m.replicated());
  ASSERT_EQ(m.owners().size(), 2u);
  EXPECT_EQ(m.owners()[0].name, "n1");  // in placement order
  EXPECT_EQ(m.owners()[0].members.at(0).addr, "127.0.0.2:1");
  EXPECT_EQ(m.placement().names(), (std::vector<std::string>{"n1", "n2"}));
}

TEST(ClusterMap, ShardsWithReplicas) {
  ClusterMap m;
  std::string error;
  ASSERT_TRUE(ClusterMap::Parse(
      R"({"front": "f:1", "nodes": [
         {"name": "n1", "addr": "a:1", "shard": "s1"}, {"name": "n2", "addr": "a:2", "shard": "s1"},
         {"name": "n3", "addr": "a:3", "shard": "s2"}, {"name": "n4", "addr": "a:4", "shard": "s2"}],
         "shards": {"s1": ["n1", "n2"], "s2": ["n3", "n4"]}, "etcd": {"endpoints": []}})",
      &m, &error))
      << error;
  EXPECT_TRUE(m.replicated());
  ASSERT_EQ(m.owners().size(), 2u);
  EXPECT_EQ(m.owners()[1].name, "s2");
  ASSERT_EQ(m.owners()[1].members.size(), 2u);
  EXPECT_EQ(m.owners()[1].members[1].name, "n4");
  EXPECT_EQ(m.AllMembers().size(), 4u);
}

TEST(ClusterMap, PlacementNamesTheOwnersKeysArePlacedOver) {
  ClusterMap m;
  std::string error;
  ASSERT_TRUE(ClusterMap::Parse(
      R"({"front": "f:1", "placement": ["n1", "n3"], "nodes": [
         {"name": "n1", "addr": "a:1"}, {"name": "n3", "addr": "a:3"},
         {"name": "n4", "addr": "a:4"}]})",
      &m, &error))
      << error;
  ASSERT_EQ(m.owners().size(), 2u);  // n4 is joining: it owns no key yet
  EXPECT_EQ(m.placement().names(), (std::vector<std::string>{"n1", "n3"}));
  for (const char* bad : {R"("placement": ["n1", "n9"])", R"("placement": [])",
                          R"("placement": "n1")", R"("placement": [1])"}) {
    EXPECT_FALSE(ClusterMap::Parse(std::string(R"({"front": "f:1", )") + bad +
                                       R"(, "nodes": [{"name": "n1", "addr": "a:1"}]})",
                                   &m, &error))
        << bad;
  }
}

TEST(ClusterMap, RejectsBadFiles) {
  ClusterMap m;
  std::string error;
  EXPECT_FALSE(ClusterMap::Parse("[]", &m, &error));
  EXPECT_FALSE(ClusterMap::Parse(R"({"front": "f:1", "nodes": []})", &m, &error));
  EXPECT_FALSE(ClusterMap::Parse(R"({"front": "f:1", "nodes": [{"name": "n1"}]})", &m, &error));
  EXPECT_FALSE(ClusterMap::Parse(
      R"({"front": "f:1", "nodes": [{"name": "n1", "addr": "a:1", "shard": "s1"},
                                    {"name": "n2", "addr": "a:2"}]})",
      &m, &error));
  EXPECT_FALSE(ClusterMap::Load("/nonexistent/cluster.json", &m, &error));
}

}  // namespace
}  // namespace httpkv::cluster
