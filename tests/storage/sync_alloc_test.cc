// Group commit allocates nothing per write in the steady state: Put + SyncAsync on the
// caller's thread, counted with a replaced operator new (the syncer thread is not counted).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "storage/log_store.h"
#include "tests/server/alloc_counter.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

void CountDone(void* ctx, const Status& s) {
  if (s.ok()) static_cast<std::atomic<int>*>(ctx)->fetch_add(1);
}

TEST(SyncAllocTest, PutAndSyncAsyncDoNotAllocate) {
  testing::TempDir dir;
  Options opts;
  opts.dir = dir.path();
  opts.fsync = FsyncPolicy::kAlways;
  opts.group_commit = true;
  auto store = testing::OpenWith(opts);
  std::vector<std::string> keys;
  for (int i = 0; i < 16; ++i) keys.push_back("key" + std::to_string(i));
  const std::string value(64, 'v');
  std::atomic<int> done{0};
  auto round = [&](int n) {
    const int target = done.load() + n;
    for (int i = 0; i < n; ++i) {
      WriteResult r;
      ASSERT_TRUE(store->Put(keys[i % keys.size()], value, Precondition::kNone, 0, &r).ok());
      store->SyncAsync(r.sync_token, &CountDone, &done);
    }
    while (done.load() < target) std::this_thread::yield();
  };
  for (int i = 0; i < 20; ++i) round(16);  // warm: waiter queue and write buffer sized
  httpkv::testing::AllocScope scope;
  for (int i = 0; i < 50; ++i) round(16);
  EXPECT_EQ(scope.allocs(), 0u);
}

}  // namespace
}  // namespace httpkv::storage
