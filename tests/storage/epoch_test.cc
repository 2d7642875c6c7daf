// Epoch: a writer that swaps a published object and calls Synchronize() frees it only after
// every reader that could see it has left. Readers check a poison value that the writer
// writes into the old object right after Synchronize(): a reader still holding it would
// see the poison (and ASan would see the use after free).
#include "storage/epoch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace httpkv::storage {
namespace {

constexpr uint64_t kPoison = 0xdeadbeefdeadbeefULL;

struct Box {
  std::atomic<uint64_t> value;
  explicit Box(uint64_t v) : value(v) {}
};

TEST(EpochTest, GuardsNestAndReportTheirSection) {
  EXPECT_FALSE(Epoch::InReadSection());
  {
    Epoch::ReadGuard outer;
    EXPECT_TRUE(Epoch::InReadSection());
    {
      Epoch::ReadGuard inner;
      EXPECT_TRUE(Epoch::InReadSection());
    }
    EXPECT_TRUE(Epoch::InReadSection());
  }
  EXPECT_FALSE(Epoch::InReadSection());
}

TEST(EpochTest, SynchronizeWithoutReadersReturns) {
  Epoch::Synchronize();
  Epoch::Synchronize();
}

TEST(EpochTest, ReadersNeverSeeAFreedObject) {
  std::atomic<Box*> published{new Box(1)};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        Epoch::ReadGuard guard;
        Box* b = published.load(std::memory_order_seq_cst);
        for (int i = 0; i < 8; ++i) {
          if (b->value.load(std::memory_order_relaxed) == kPoison) bad.fetch_add(1);
        }
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (uint64_t v = 2; v < 2000; ++v) {
    Box* old = published.exchange(new Box(v), std::memory_order_seq_cst);
    Epoch::Synchronize();
    old->value.store(kPoison, std::memory_order_relaxed);
    delete old;
  }
  // Let the readers make progress after the last swap before stopping them.
  const uint64_t seen = reads.load();
  while (reads.load() < seen + 100) std::this_thread::yield();
  stop = true;
  for (auto& r : readers) r.join();
  delete published.load();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
}

TEST(EpochTest, ThreadsReturnTheirSlotsWhenTheyExit) {
  // More threads over time than there are slots: each exits and frees its slot.
  for (size_t round = 0; round < Epoch::kMaxThreads + 16; round += 64) {
    std::vector<std::thread> ts;
    for (int i = 0; i < 64; ++i) ts.emplace_back([] { Epoch::ReadGuard g; });
    for (auto& t : ts) t.join();
  }
  Epoch::Synchronize();
}

}  // namespace
}  // namespace httpkv::storage
