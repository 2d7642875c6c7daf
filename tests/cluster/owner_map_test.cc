// OwnerMap (server/placement/owner_map.h): what a node answers for a key, checked against the
// owners placement_ref.py computed (placement_vectors.h), its JSON, and the refusals.
#include "server/placement/owner_map.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tests/cluster/placement_vectors.h"

namespace httpkv::placement {
namespace {

using placement_vectors::kPlacementVectors;
using placement_vectors::Split;
using Verdict = OwnerMap::Verdict;

OwnerMap Make(std::vector<std::string> owners, std::vector<std::string> before, std::string self) {
  OwnerMap m;
  std::string error;
  EXPECT_TRUE(OwnerMap::Make(std::move(owners), std::move(before), std::move(self), &m, &error))
      << error;
  return m;
}

TEST(OwnerMap, EachNodeKeepsItsKeysAndNamesTheOwnerOfOthers) {
  for (const auto& v : kPlacementVectors) {
    for (const std::string& self : Split(v.names)) {
      const OwnerMap m = Make(Split(v.names), {}, self);
      std::string_view owner;
      const Verdict got = m.Check(v.key, &owner);
      if (self == v.owner) {
        EXPECT_EQ(got, Verdict::kMine) << v.names << " self " << self;
      } else {
        EXPECT_EQ(got, Verdict::kNotMine) << v.names << " self " << self;
        EXPECT_EQ(owner, v.owner);
      }
    }
  }
}

// cluster.sh add: n3 joins n1,n2. Its keys are still arriving; the others' keys are not its.
TEST(OwnerMap, ANewNodesKeysAreMovingInUntilTheMoveEnds) {
  int moving = 0;
  for (const auto& v : kPlacementVectors) {
    if (v.names != "n1,n2,n3") continue;
    const OwnerMap joining = Make({"n1", "n2", "n3"}, {"n1", "n2"}, "n3");
    const OwnerMap joined = Make({"n1", "n2", "n3"}, {}, "n3");
    std::string_view owner;
    if (v.owner == "n3") {
      EXPECT_EQ(joining.Check(v.key, &owner), Verdict::kMovingIn);
      EXPECT_EQ(joined.Check(v.key, &owner), Verdict::kMine);
      ++moving;
    } else {
      EXPECT_EQ(joining.Check(v.key, &owner), Verdict::kNotMine);
      EXPECT_EQ(owner, v.owner);
    }
  }
  EXPECT_GT(moving, 0);
}

// Shrinking from seven owners to three (as cluster.sh remove does one at a time): on each of
// the three, a key is its own if it owned it before too, moving in if it is its own only
// now, and another's otherwise. Both owners of each key come from the reference vectors.
TEST(OwnerMap, ShrinkingMovesKeysToTheOwnersLeft) {
  std::map<std::string_view, std::string_view> before_owner, now_owner;
  for (const auto& v : kPlacementVectors) {
    if (v.names == "n1,n2,n3,n4,n5,n6,n7") before_owner[v.key] = v.owner;
    if (v.names == "n1,n2,n3") now_owner[v.key] = v.owner;
  }
  int moving = 0, kept = 0;
  for (const std::string self : {"n1", "n2", "n3", "n7"}) {
    const OwnerMap m = Make({"n1", "n2", "n3"}, Split("n1,n2,n3,n4,n5,n6,n7"), self);
    for (const auto& [key, now] : now_owner) {
      ASSERT_EQ(before_owner.count(key), 1u);
      std::string_view owner;
      const Verdict got = m.Check(key, &owner);
      if (now != self) {
        EXPECT_EQ(got, Verdict::kNotMine) << self;
        EXPECT_EQ(owner, now);
      } else if (before_owner[key] == self) {
        EXPECT_EQ(got, Verdict::kMine) << self;
        ++kept;
      } else {
        EXPECT_EQ(got, Verdict::kMovingIn) << self;
        ++moving;
      }
    }
  }
  EXPECT_GT(moving, 0);
  EXPECT_GT(kept, 0);
}

TEST(OwnerMap, JsonRoundTrips) {
  OwnerMap m;
  std::string error;
  ASSERT_TRUE(
      OwnerMap::Parse(R"({"owners": ["s1", "s2"], "before": ["s1"], "self": "s2"})", &m, &error))
      << error;
  EXPECT_EQ(m.ToJson(), "{\"owners\":[\"s1\",\"s2\"],\"before\":[\"s1\"],\"self\":\"s2\"}\n");
  OwnerMap again;
  ASSERT_TRUE(OwnerMap::Parse(m.ToJson(), &again, &error)) << error;
  EXPECT_EQ(again.owners(), m.owners());
  EXPECT_EQ(again.before(), m.before());
  EXPECT_EQ(again.self(), "s2");
  EXPECT_EQ(Make({"n1"}, {}, "n1").ToJson(), "{\"owners\":[\"n1\"],\"self\":\"n1\"}\n");
}

TEST(OwnerMap, RefusesWhatCouldNotBeAPlacement) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"[]", "not a JSON object"},
      {"{", ""},
      {R"({"self": "n1"})", "no owners"},
      {R"({"owners": [], "self": "n1"})", "no owners"},
      {R"({"owners": "n1", "self": "n1"})", "not a list"},
      {R"({"owners": ["n1", 2], "self": "n1"})", "not a list"},
      {R"({"owners": ["n1", "x2"], "self": "n1"})", "not nK or sK"},
      {R"({"owners": ["n1", "n0"], "self": "n1"})", "not nK or sK"},
      {R"({"owners": ["n1", "s1"], "self": "n1"})", "same number"},
      {R"({"owners": ["n1"], "before": ["n2", "n2"], "self": "n1"})", "same number"},
      {R"({"owners": ["n1", "n2"], "self": "n3"})", "neither"},
      {R"({"owners": ["n1"], "self": 1})", "not a string"},
  };
  for (const auto& [json, reason] : cases) {
    OwnerMap m;
    std::string error;
    EXPECT_FALSE(OwnerMap::Parse(json, &m, &error)) << json;
    EXPECT_NE(error.find(reason), std::string::npos) << json << ": " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace httpkv::placement
