// Several threads hammer one store (run this under TSan).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::GetValue;
using testing::OpenOrDie;
using testing::TempDir;

constexpr int kThreads = 4;
constexpr int kOps = 2000;

// Values encode their writer and sequence so a torn or mixed-up read is detectable.
std::string ValueFor(int thread, int i) {
  return "t" + std::to_string(thread) + "-" + std::to_string(i) + std::string(i % 50, '.');
}

TEST(ConcurrencyTest, PutsAndGetsOnDistinctAndSharedKeys) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), FsyncPolicy::kEverySec);
  std::atomic<int> bad_reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string value;
      for (int i = 0; i < kOps; ++i) {
        const std::string own = "own-" + std::to_string(t) + "-" + std::to_string(i % 100);
        const std::string shared = "shared-" + std::to_string(i % 10);
        if (!testing::PutValue(store.get(), own, ValueFor(t, i)).ok()) bad_reads++;
        if (!testing::PutValue(store.get(), shared, ValueFor(t, i)).ok()) bad_reads++;
        // Own key: we are the only writer, so we must read back exactly what we wrote.
        if (!store->Get(own, &value, nullptr).ok() || value != ValueFor(t, i)) bad_reads++;
        // Shared key: any writer's value, but always a whole, well-formed one.
        if (!store->Get(shared, &value, nullptr).ok() || value[0] != 't') bad_reads++;
        if (i % 250 == 0) {
          int n = 0;
          Status s = store->Scan({}, [&](auto, auto v) { return !v.empty() && ++n > 0; });
          if (!s.ok()) bad_reads++;
        }
        if (i % 10 == 9) {
          WriteResult r;
          (void)store->Delete("own-" + std::to_string(t) + "-" + std::to_string(i % 100), &r);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad_reads.load(), 0);

  const Stats st = store->stats();
  EXPECT_EQ(st.appends, static_cast<uint64_t>(kThreads) * (2 * kOps + kOps / 10));
  store.reset();
  auto reopened = OpenOrDie(dir.path());
  EXPECT_EQ(reopened->stats().keys, st.keys);
  EXPECT_EQ(reopened->stats().live_bytes, st.live_bytes);
  EXPECT_TRUE(reopened->recovery().warnings.empty());
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < 100; ++k) {
      // Last op on own key k was at i = 1900 + k; keys with k % 10 == 9 were deleted then.
      const std::string key = "own-" + std::to_string(t) + "-" + std::to_string(k);
      EXPECT_EQ(GetValue(reopened.get(), key), k % 10 == 9 ? "<NotFound>" : ValueFor(t, 1900 + k));
    }
  }
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(GetValue(reopened.get(), "shared-" + std::to_string(k))[0], 't');
}

TEST(ConcurrencyTest, MustNotExistHasExactlyOneWinner) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    const std::string key = "race-" + std::to_string(round);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        WriteResult r;
        if (store->Put(key, "v", Precondition::kMustNotExist, 0, &r).ok()) winners++;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(winners.load(), 1);
  }
}

// Writers keep going while the everysec syncer flushes underneath them (TSan coverage for the
// syncer thread); finishes as soon as the syncer has flushed twice, bounded by a deadline.
TEST(ConcurrencyTest, EverySecSyncerRunsAlongsideWriters) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), FsyncPolicy::kEverySec);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; store->stats().fsyncs < 2 && std::chrono::steady_clock::now() < deadline;
           ++i) {
        if (!testing::PutValue(store.get(), "k" + std::to_string(t), std::to_string(i)).ok()) {
          failed = true;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(failed.load());
  EXPECT_GE(store->stats().fsyncs, 2u);
  EXPECT_EQ(store->stats().fsync_errors, 0u);
}

}  // namespace
}  // namespace httpkv::storage
