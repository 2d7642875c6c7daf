#include "storage/key_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

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

TEST(KeyIndexTest, UpsertIfNewerKeepsTheLargerVersion) {
  KeyIndex index;
  IndexEntry prev, got;
  EXPECT_EQ(index.UpsertIfNewer("a", IndexEntry{1, 5, 0, 10}, &prev),
            KeyIndex::Upserted::kInserted);
  EXPECT_EQ(index.UpsertIfNewer("a", IndexEntry{2, 6, 0, 9}, &prev), KeyIndex::Upserted::kNotNewer);
  EXPECT_EQ(prev, (IndexEntry{1, 5, 0, 10}));
  EXPECT_EQ(index.UpsertIfNewer("a", IndexEntry{3, 7, 0, 10}, &prev),
            KeyIndex::Upserted::kNotNewer);
  EXPECT_EQ(index.UpsertIfNewer("a", IndexEntry{4, 8, 0, 11}, &prev),
            KeyIndex::Upserted::kReplaced);
  EXPECT_EQ(prev, (IndexEntry{1, 5, 0, 10}));
  ASSERT_TRUE(index.Find("a", &got));
  EXPECT_EQ(got, (IndexEntry{4, 8, 0, 11}));
  EXPECT_EQ(index.size(), 1u);
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
    // Segment ids are < 2^31 (bit 31 of the packed id holds `expires`).
    const IndexEntry e{static_cast<uint32_t>(rng() >> 33), static_cast<uint32_t>(rng()),
                       rng() & ((uint64_t{1} << 40) - 1), static_cast<uint64_t>(op),
                       (rng() & 1) != 0};
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

using Model = std::map<std::string, IndexEntry>;
using Page = std::vector<std::pair<std::string, IndexEntry>>;

// What Collect must return, from the model.
Page ModelCollect(const Model& model, std::string_view prefix, std::string_view after, size_t max) {
  Page want;
  for (auto it = model.upper_bound(std::string(after)); it != model.end() && want.size() < max;
       ++it) {
    if (it->first.starts_with(prefix)) want.push_back(*it);
  }
  return want;
}

// Short keys over bytes that sort at the edges (0x00, 0xff) and in the middle, so prefixes,
// cursors and keys collide often.
std::string EdgeByteKey(std::mt19937_64& rng, size_t max_len) {
  static constexpr char kBytes[] = {'\x00', '\x01', 'a', 'b', '\x7f', '\x80', '\xfe', '\xff'};
  std::string k(1 + rng() % max_len, '\0');
  for (char& c : k) c = kBytes[rng() % sizeof(kBytes)];
  return k;
}

// Random upserts, erases, relocations; after every few ops an ordered Collect with a random
// prefix, cursor and limit is compared with the model. Small key space: many tombstones and
// rebuilds; many seeds.
TEST(KeyIndexTest, OrderedCollectMatchesModelManySeeds) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    KeyIndex index;
    Model model;
    std::mt19937_64 rng(seed);
    const size_t key_space_len = 2 + seed % 4;
    for (int op = 0; op < 4000; ++op) {
      const std::string key = EdgeByteKey(rng, key_space_len);
      const IndexEntry e{static_cast<uint32_t>(rng() >> 33), static_cast<uint32_t>(op),
                         rng() & ((uint64_t{1} << 40) - 1), static_cast<uint64_t>(op + 1)};
      IndexEntry prev;
      const auto it = model.find(key);
      const uint64_t r = rng() % 10;
      if (r < 5) {
        ASSERT_EQ(index.Upsert(key, e, &prev), it != model.end());
        if (it != model.end()) {
          ASSERT_EQ(prev, it->second);
        }
        model[key] = e;
      } else if (r < 8) {
        ASSERT_EQ(index.Erase(key, &prev), it != model.end());
        if (it != model.end()) {
          ASSERT_EQ(prev, it->second);
          model.erase(it);
        }
      } else if (it != model.end()) {
        ASSERT_TRUE(index.UpdateLocation(key, it->second.version, 3, 4));
        it->second.segment = 3;
        it->second.offset = 4;
      }
      if (op % 7 == 0) {
        const std::string prefix = rng() % 3 == 0 ? "" : EdgeByteKey(rng, 2);
        const std::string after = rng() % 3 == 0 ? "" : EdgeByteKey(rng, key_space_len);
        const size_t max = 1 + rng() % 20;
        Page got;
        index.Collect(prefix, after, max, &got);
        ASSERT_EQ(got, ModelCollect(model, prefix, after, max));
      }
    }
    ASSERT_EQ(index.size(), model.size());
    Page all;
    index.Collect("", "", SIZE_MAX, &all);
    ASSERT_EQ(all, Page(model.begin(), model.end()));
  }
}

// Overwrites of a few keys pile up stale entries until a rebuild reclaims them; memory stays
// bounded and every key keeps its latest entry.
TEST(KeyIndexTest, GarbageRebuildsKeepLatestEntries) {
  KeyIndex index;
  IndexEntry prev, got;
  size_t peak = 0;
  for (uint64_t round = 1; round <= 2000; ++round) {
    for (int k = 0; k < 100; ++k) {
      index.Upsert("key" + std::to_string(k), IndexEntry{1, 2, round, round * 100 + k}, &prev);
    }
    peak = std::max(peak, index.memory_bytes());
  }
  EXPECT_LT(peak, size_t{8} << 20);  // 200k entries written: 6+ MiB without rebuilds
  for (int k = 0; k < 100; ++k) {
    ASSERT_TRUE(index.Find("key" + std::to_string(k), &got));
    EXPECT_EQ(got, (IndexEntry{1, 2, 2000, 200000u + k}));
  }
  EXPECT_EQ(Keys(index, "key9", "", 100),
            (std::vector<std::string>{"key9", "key90", "key91", "key92", "key93", "key94", "key95",
                                      "key96", "key97", "key98", "key99"}));
}

// 65535-byte keys (the u16 limit) fill a chunk each, which forces rebuilds when the arena's
// chunk directory is full; they still sort by their last bytes.
TEST(KeyIndexTest, MaxLengthKeys) {
  KeyIndex index;
  Model model;
  IndexEntry prev;
  for (int i = 0; i < 300; ++i) {
    std::string key(65535, static_cast<char>(i % 2 == 0 ? '\xff' : '\x00'));
    key[65533] = static_cast<char>(i / 256);
    key[65534] = static_cast<char>(i % 256);
    const IndexEntry e{static_cast<uint32_t>(i), 7, static_cast<uint64_t>(i), 1};
    ASSERT_FALSE(index.Upsert(key, e, &prev));
    model[key] = e;
    if (i % 3 == 0) {
      ASSERT_TRUE(index.Erase(key, &prev));
      model.erase(key);
    }
  }
  for (const auto& [k, v] : model) {
    IndexEntry got;
    ASSERT_TRUE(index.Find(k, &got));
    ASSERT_EQ(got, v);
  }
  Page all;
  std::string after;
  for (Page page; index.Collect("", after, 7, &page), !page.empty(); page.clear()) {
    after = page.back().first;
    all.insert(all.end(), page.begin(), page.end());
  }
  EXPECT_EQ(all, Page(model.begin(), model.end()));
  Page zeros;
  index.Collect(std::string(100, '\0'), "", SIZE_MAX, &zeros);
  EXPECT_EQ(zeros.size(), 100u);  // odd i not divisible by 3
}

// An entry whose fields agree with each other, so a torn read would be caught.
IndexEntry Consistent(uint64_t version, uint32_t segment) {
  return IndexEntry{segment, static_cast<uint32_t>(version * 7), (version * 13) & 0xffffffffff,
                    version};
}
bool IsConsistent(const IndexEntry& e) {
  return e.value_size == static_cast<uint32_t>(e.version * 7) &&
         e.offset == ((e.version * 13) & 0xffffffffff);
}

// Readers never miss a key that is never erased and never see a torn entry while one writer
// overwrites and relocates those keys and churns others through growth, tombstones and
// rebuilds; a lister paging through the stable keys sees each exactly once, in order.
TEST(KeyIndexTest, ConcurrentReadersSeeEveryStableKey) {
  KeyIndex index;
  constexpr int kStable = 2000;
  std::vector<std::string> stable;
  IndexEntry prev;
  for (int i = 0; i < kStable; ++i) {
    stable.push_back("s" + std::to_string(100000 + i));
    index.Upsert(stable.back(), Consistent(1, 0), &prev);
  }
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      while (!done.load(std::memory_order_acquire)) {
        IndexEntry got;
        const std::string& key = stable[rng() % kStable];
        if (!index.Find(key, &got) || !IsConsistent(got)) failures.fetch_add(1);
        if (index.Find("no such key", &got)) failures.fetch_add(1);
      }
    });
  }
  readers.emplace_back([&] {
    while (!done.load(std::memory_order_acquire)) {
      std::vector<std::string> seen;
      std::string after;
      for (Page page; index.Collect("s", after, 97, &page), !page.empty(); page.clear()) {
        for (auto& [k, e] : page) {
          if (!IsConsistent(e)) failures.fetch_add(1);
          seen.push_back(k);
        }
        after = page.back().first;
      }
      if (seen != stable) failures.fetch_add(1);
    }
  });
  std::mt19937_64 rng(99);
  for (uint64_t op = 2; op < 60000; ++op) {
    const std::string& key = stable[rng() % kStable];
    switch (op % 4) {
      case 0:
        index.Upsert(key, Consistent(op, 1), &prev);
        break;
      case 1:
        index.Find(key, &prev);
        index.UpdateLocation(key, prev.version, 2, (prev.version * 13) & 0xffffffffff);
        break;
      default: {
        const std::string churn = "c" + std::to_string(rng() % 20000);
        if (rng() % 2 == 0) {
          index.Upsert(churn, Consistent(op, 3), &prev);
        } else {
          index.Erase(churn, &prev);
        }
      }
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace httpkv::storage
