// KeyIndex's incremental moves between tables (growth and garbage collection spread over
// writes) and its bulk load: readers concurrent with moves, writes interleaved with every
// phase of a move, and a bulk-loaded index equal to one built a key at a time.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/key_index.h"

namespace httpkv::storage {
namespace {

using Model = std::map<std::string, IndexEntry>;
using Page = std::vector<std::pair<std::string, IndexEntry>>;

void ExpectMatches(const KeyIndex& index, const Model& model) {
  ASSERT_EQ(index.size(), model.size());
  for (const auto& [k, v] : model) {
    IndexEntry got;
    ASSERT_TRUE(index.Find(k, &got)) << k;
    ASSERT_EQ(got, v) << k;
  }
  Page all;
  index.Collect("", "", SIZE_MAX, &all);
  ASSERT_EQ(all, Page(model.begin(), model.end()));
}

// One random write (insert, overwrite, erase or relocation) applied to index and model.
void RandomWrite(std::mt19937_64& rng, uint64_t version, size_t key_space, KeyIndex* index,
                 Model* model) {
  const std::string key = "k" + std::to_string(rng() % key_space);
  const IndexEntry e{static_cast<uint32_t>(rng() >> 33), static_cast<uint32_t>(rng()),
                     rng() & ((uint64_t{1} << 40) - 1), version, (rng() & 1) != 0};
  const auto it = model->find(key);
  IndexEntry prev;
  const uint64_t r = rng() % 10;
  if (r < 6) {
    ASSERT_EQ(index->Upsert(key, e, &prev), it != model->end());
    if (it != model->end()) {
      ASSERT_EQ(prev, it->second);
    }
    (*model)[key] = e;
  } else if (r < 8) {
    ASSERT_EQ(index->Erase(key, &prev), it != model->end());
    if (it != model->end()) {
      ASSERT_EQ(prev, it->second);
      model->erase(it);
    }
  } else if (it != model->end()) {
    ASSERT_FALSE(index->UpdateLocation(key, it->second.version + 1, 9, 9));
    ASSERT_TRUE(index->UpdateLocation(key, it->second.version, 5, version));
    it->second.segment = 5;
    it->second.offset = version;
  }
}

// Every write, Find and listing page is checked against the model while moves are under way:
// the key space first grows (growth moves), then is churned with overwrites and erases
// (garbage and tombstone moves). Moves are seen to start and end many times.
TEST(KeyIndexGrowthTest, WritesInterleavedWithEveryPhaseOfMoves) {
  KeyIndex index;
  Model model;
  std::mt19937_64 rng(5);
  int writes_during_moves = 0, moves_seen = 0;
  bool was_moving = false;
  for (uint64_t op = 1; op <= 120000; ++op) {
    const size_t key_space = op < 40000 ? op : 3000;
    ASSERT_NO_FATAL_FAILURE(RandomWrite(rng, op, key_space, &index, &model));
    const bool moving = index.MoveInProgress();
    writes_during_moves += moving;
    moves_seen += moving && !was_moving;
    was_moving = moving;
    if (moving && op % 17 == 0) {
      const std::string key = "k" + std::to_string(rng() % key_space);
      IndexEntry got;
      const auto it = model.find(key);
      ASSERT_EQ(index.Find(key, &got), it != model.end());
      if (it != model.end()) {
        ASSERT_EQ(got, it->second);
      }
      const std::string after = "k" + std::to_string(rng() % key_space);
      Page page;
      index.Collect("k", after, 50, &page);
      Page want;
      for (auto m = model.upper_bound(after); m != model.end() && want.size() < 50; ++m) {
        want.push_back(*m);
      }
      ASSERT_EQ(page, want);
    }
  }
  EXPECT_GT(moves_seen, 10);
  EXPECT_GT(writes_during_moves, 1000);
  ASSERT_NO_FATAL_FAILURE(ExpectMatches(index, model));
  index.FinishMoves();
  EXPECT_FALSE(index.MoveInProgress());
  ASSERT_NO_FATAL_FAILURE(ExpectMatches(index, model));
}

// The same writes one at a time and in a bulk load give the same index.
TEST(KeyIndexGrowthTest, BulkLoadEqualsOneByOne) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    KeyIndex one_by_one, bulk;
    Model model, bulk_model;
    bulk.BeginBulkLoad();
    std::mt19937_64 rng(seed), rng_bulk(seed);
    const size_t key_space = 1000 * seed * seed;
    for (uint64_t op = 1; op <= 60000; ++op) {
      ASSERT_NO_FATAL_FAILURE(RandomWrite(rng, op, key_space, &one_by_one, &model));
      ASSERT_NO_FATAL_FAILURE(RandomWrite(rng_bulk, op, key_space, &bulk, &bulk_model));
    }
    bulk.EndBulkLoad();
    EXPECT_FALSE(bulk.MoveInProgress());
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(bulk, model));
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(one_by_one, model));
    // Still an ordinary index afterwards.
    for (uint64_t op = 60001; op <= 70000; ++op) {
      ASSERT_NO_FATAL_FAILURE(RandomWrite(rng_bulk, op, key_space, &bulk, &bulk_model));
    }
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(bulk, bulk_model));
  }
}

// Keys sharing long prefixes and bytes at the edges sort as std::map does after a bulk load.
TEST(KeyIndexGrowthTest, BulkLoadSortsLongAndEdgeKeys) {
  KeyIndex index;
  Model model;
  index.BeginBulkLoad();
  std::mt19937_64 rng(3);
  static constexpr char kBytes[] = {'\x00', '\x01', 'a', '\x7f', '\x80', '\xff'};
  for (int i = 0; i < 20000; ++i) {
    std::string key(rng() % 40, 'p');
    const size_t tail = 1 + rng() % 12;
    for (size_t j = 0; j < tail; ++j) key += kBytes[rng() % sizeof(kBytes)];
    const IndexEntry e{1, 2, static_cast<uint64_t>(i), static_cast<uint64_t>(i + 1)};
    IndexEntry prev;
    index.Upsert(key, e, &prev);
    model[key] = e;
  }
  index.EndBulkLoad();
  ASSERT_NO_FATAL_FAILURE(ExpectMatches(index, model));
}

// An entry whose fields agree with each other, so a torn read would be caught.
IndexEntry Consistent(uint64_t version) {
  return IndexEntry{3, static_cast<uint32_t>(version * 7), (version * 13) & 0xffffffffff, version};
}
bool IsConsistent(const IndexEntry& e) {
  return e.value_size == static_cast<uint32_t>(e.version * 7) &&
         e.offset == ((e.version * 13) & 0xffffffffff);
}

// While one writer grows the index through many moves (inserts), overwrites and relocates
// "hot" keys and erases "doomed" keys, readers never miss a key that was inserted before they
// looked and not erased, never see a version older than one published before they looked, and
// never find an erased key.
TEST(KeyIndexGrowthTest, ReadersConcurrentWithMovesNeverMissNorSeeStale) {
  KeyIndex index;
  constexpr int kHot = 64;
  constexpr int kKeys = 60000;
  std::vector<std::atomic<uint64_t>> hot_version(kHot);
  std::atomic<int> inserted{0}, erased{0};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto key_of = [](int i) { return "key" + std::to_string(i); };
  auto hot_key = [](int i) { return "hot" + std::to_string(i); };
  IndexEntry prev;
  for (int i = 0; i < kHot; ++i) {
    index.Upsert(hot_key(i), Consistent(1), &prev);
    hot_version[i].store(1);
  }
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      while (!done.load(std::memory_order_acquire)) {
        IndexEntry got;
        const int gone = erased.load(std::memory_order_acquire);
        const int there = inserted.load(std::memory_order_acquire);
        if (gone > 0 && index.Find(key_of(static_cast<int>(rng() % gone) * 2), &got)) {
          failures.fetch_add(1);  // an erased (even) key came back
        }
        if (there > 0) {
          const int k = static_cast<int>(rng() % there);
          if (k % 2 == 1 && (!index.Find(key_of(k), &got) || !IsConsistent(got))) {
            failures.fetch_add(1);  // odd keys are never erased
          }
        }
        const int h = static_cast<int>(rng() % kHot);
        const uint64_t published = hot_version[h].load(std::memory_order_acquire);
        if (!index.Find(hot_key(h), &got) || !IsConsistent(got) || got.version < published) {
          failures.fetch_add(1);
        }
      }
    });
  }
  uint64_t version = 2;
  for (int i = 0; i < kKeys; ++i) {
    index.Upsert(key_of(i), Consistent(version++), &prev);
    inserted.store(i + 1, std::memory_order_release);
    const int h = i % kHot;
    if (i % 3 == 0) {
      index.Upsert(hot_key(h), Consistent(version), &prev);
    } else {
      const uint64_t v = hot_version[h].load();
      index.UpdateLocation(hot_key(h), v, 3, (v * 13) & 0xffffffffff);
      index.Upsert(hot_key(h), Consistent(version), &prev);
    }
    hot_version[h].store(version++, std::memory_order_release);
    const int e = erased.load(std::memory_order_relaxed);
    if (i % 4 == 3 && e * 2 < i) {  // erase even keys, in order
      ASSERT_TRUE(index.Erase(key_of(e * 2), &prev));
      erased.store(e + 1, std::memory_order_release);
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace httpkv::storage
