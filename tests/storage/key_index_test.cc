#include "storage/key_index.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace httpkv::storage
