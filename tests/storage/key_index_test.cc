#include "storage/key_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace httpkv::storage {
namespace {

std::vector<std::string> Keys(const KeyIndex& index, std::string_view prefix,
                              std::string_view after, size_t max) {
  std::vector<std::pair<std::string, IndexEntry>> out;
  index.Collect(prefix, after, max, &out);
  std::vector<std::string> keys;
  for (auto& [k, e] : out) keys.push_back(k);
  return keys;
}

TEST(KeyIndexTest, UpsertFindErase) {
  KeyIndex index;
  IndexEntry prev, got;
  EXPECT_FALSE(index.Upsert("a", IndexEntry{1, 5, 0, 1}, &prev));
  EXPECT_TRUE(index.Upsert("a", IndexEntry{1, 6, 100, 2}, &prev));
  EXPECT_EQ(prev, (IndexEntry{1, 5, 0, 1}));
  ASSERT_TRUE(index.Find("a", &got));
  EXPECT_EQ(got, (IndexEntry{1, 6, 100, 2}));
  EXPECT_FALSE(index.Find("b", &got));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_TRUE(index.Erase("a", &prev));
  EXPECT_FALSE(index.Erase("a", &prev));
  EXPECT_EQ(index.size(), 0u);
}

TEST(KeyIndexTest, CollectPrefixAfterLimit) {
  KeyIndex index;
  IndexEntry prev;
  for (const char* k : {"a", "b1", "b2", "b3", "c"}) index.Upsert(k, IndexEntry{}, &prev);
  EXPECT_EQ(Keys(index, "", "", 100), (std::vector<std::string>{"a", "b1", "b2", "b3", "c"}));
  EXPECT_EQ(Keys(index, "b", "", 100), (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_EQ(Keys(index, "b", "b1", 100), (std::vector<std::string>{"b2", "b3"}));
  EXPECT_EQ(Keys(index, "b", "a", 100), (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_EQ(Keys(index, "b", "bz", 100), std::vector<std::string>{});
  EXPECT_EQ(Keys(index, "", "b2", 100), (std::vector<std::string>{"b3", "c"}));
  EXPECT_EQ(Keys(index, "", "", 2), (std::vector<std::string>{"a", "b1"}));
  EXPECT_EQ(Keys(index, "zz", "", 100), std::vector<std::string>{});
}

// Randomised against std::map: inserts, overwrites, erases (enough to trigger growth,
// backward-shift deletion and arena defragmentation), relocations and ordered collects.
TEST(KeyIndexTest, MatchesStdMapUnderRandomOps) {
  KeyIndex index;
  std::map<std::string, IndexEntry> model;
  std::mt19937_64 rng(42);
  for (int op = 0; op < 200000; ++op) {
    const std::string key = "k" + std::to_string(rng() % 5000) + std::string(rng() % 40, 'x');
    const IndexEntry e{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
                       rng() & ((uint64_t{1} << 40) - 1), static_cast<uint64_t>(op)};
    IndexEntry prev;
    const bool had = model.contains(key);
    switch (rng() % 4) {
      case 0:
      case 1:
        ASSERT_EQ(index.Upsert(key, e, &prev), had);
        if (had) {
          ASSERT_EQ(prev, model[key]);
        }
        model[key] = e;
        break;
      case 2:
        ASSERT_EQ(index.Erase(key, &prev), had);
        if (had) {
          ASSERT_EQ(prev, model[key]);
        }
        model.erase(key);
        break;
      case 3:
        if (had) {
          ASSERT_TRUE(index.UpdateLocation(key, model[key].version, 7, 99));
          model[key].segment = 7;
          model[key].offset = 99;
          ASSERT_FALSE(index.UpdateLocation(key, model[key].version + 1, 8, 1));
        }
        break;
    }
  }
  ASSERT_EQ(index.size(), model.size());
  for (const auto& [k, v] : model) {
    IndexEntry got;
    ASSERT_TRUE(index.Find(k, &got)) << k;
    ASSERT_EQ(got, v) << k;
  }
  std::vector<std::pair<std::string, IndexEntry>> all;
  std::string after;
  while (true) {
    const size_t before = all.size();
    index.Collect("k1", after, 333, &all);
    if (all.size() == before) break;
    after = all.back().first;
  }
  std::vector<std::pair<std::string, IndexEntry>> want;
  for (const auto& kv : model) {
    if (kv.first.starts_with("k1")) want.push_back(kv);
  }
  EXPECT_EQ(all, want);
}

}  // namespace
}  // namespace httpkv::storage
