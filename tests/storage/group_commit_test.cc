// Group commit: many writers share one fdatasync; done callbacks report its outcome.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/log_store.h"
#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::GetValue;
using testing::OpenOrDie;
using testing::OpenWith;
using testing::PutValue;
using testing::TempDir;

Options GroupOptions(const std::string& dir) {
  Options opts;
  opts.dir = dir;
  opts.fsync = FsyncPolicy::kAlways;
  opts.group_commit = true;
  return opts;
}

Status WaitDurable(LogStore* store, uint64_t token) {
  std::promise<Status> p;
  auto f = p.get_future();
  store->SyncAsync(
      token,
      [](void* ctx, const Status& s) { static_cast<std::promise<Status>*>(ctx)->set_value(s); },
      &p);
  return f.get();
}

TEST(GroupCommitTest, ConcurrentWritersShareFsyncs) {
  TempDir dir;
  constexpr int kThreads = 8, kPuts = 200;
  {
    auto store = OpenWith(GroupOptions(dir.path()));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPuts; ++i) {
          WriteResult r;
          const std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
          if (!PutValue(store.get(), key, "v" + std::to_string(i), &r).ok()) failures++;
          if (!WaitDurable(store.get(), r.sync_token).ok()) failures++;
          if (store->durable_token() < r.sync_token) failures++;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const Stats st = store->stats();
    EXPECT_EQ(st.appends, uint64_t{kThreads * kPuts});
    // Each writer waits for its own sync, so groups can only form across threads: with 8
    // writers the fsync count must be well below one per put.
    EXPECT_LT(st.fsyncs, st.appends * 3 / 4) << "fsyncs=" << st.fsyncs;
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->stats().keys, uint64_t{kThreads * kPuts});
  EXPECT_EQ(GetValue(store.get(), "k7-199"), "v199");
}

TEST(GroupCommitTest, TokensAreMonotonicAndPutDoesNotSyncInline) {
  TempDir dir;
  auto store = OpenWith(GroupOptions(dir.path()));
  WriteResult a, b, d;
  ASSERT_TRUE(PutValue(store.get(), "a", "1", &a).ok());
  ASSERT_TRUE(PutValue(store.get(), "b", "2", &b).ok());
  ASSERT_TRUE(store->Delete("a", &d).ok());
  EXPECT_LT(a.sync_token, b.sync_token);
  EXPECT_LT(b.sync_token, d.sync_token);
  EXPECT_EQ(store->stats().fsyncs, 0u);
  EXPECT_LT(store->durable_token(), a.sync_token);
  ASSERT_TRUE(WaitDurable(store.get(), b.sync_token).ok());
  EXPECT_GE(store->durable_token(), d.sync_token);  // one sync covered everything so far
  EXPECT_EQ(store->stats().fsyncs, 1u);
  // Already durable: runs inline on this thread without another fsync.
  struct Inline {
    bool ran = false;
    std::thread::id self = std::this_thread::get_id();
  } in;
  store->SyncAsync(
      d.sync_token,
      [](void* ctx, const Status& s) {
        auto* in = static_cast<Inline*>(ctx);
        in->ran = s.ok() && std::this_thread::get_id() == in->self;
      },
      &in);
  EXPECT_TRUE(in.ran);
  EXPECT_EQ(store->stats().fsyncs, 1u);
  // A token nobody was given is rejected rather than waited for forever.
  EXPECT_EQ(WaitDurable(store.get(), d.sync_token + 1000).code(), Status::Code::kInvalidArgument);
}

TEST(GroupCommitTest, WithoutGroupCommitAlwaysSyncsInline) {
  TempDir dir;
  Options opts = GroupOptions(dir.path());
  opts.group_commit = false;
  auto store = OpenWith(opts);
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "a", "1", &r).ok());
  EXPECT_EQ(store->stats().fsyncs, 1u);
  EXPECT_GE(store->durable_token(), r.sync_token);
}

TEST(GroupCommitTest, FdatasyncFailureReachesDone) {
  TempDir dir;
  std::atomic<bool> fail{true};
  testing::FaultFileSystem fs;
  fs.SetHook([&](testing::FsOp op, const std::string&) {
    return op == testing::FsOp::kSync && fail.load() ? Status::IOError("injected EIO")
                                                     : Status::OK();
  });
  Options opts = GroupOptions(dir.path());
  opts.fs = &fs;
  auto store = OpenWith(opts);
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "a", "1", &r).ok());
  Status s = WaitDurable(store.get(), r.sync_token);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_LT(store->durable_token(), r.sync_token);
  EXPECT_GE(store->stats().fsync_errors, 1u);
  fail = false;  // the disk recovers: the next group succeeds
  ASSERT_TRUE(PutValue(store.get(), "b", "2", &r).ok());
  EXPECT_TRUE(WaitDurable(store.get(), r.sync_token).ok());
}

TEST(GroupCommitTest, DestructorCompletesPendingCallbacks) {
  TempDir dir;
  std::atomic<int> done{0};
  {
    auto store = OpenWith(GroupOptions(dir.path()));
    for (int i = 0; i < 50; ++i) {
      WriteResult r;
      ASSERT_TRUE(PutValue(store.get(), "k" + std::to_string(i), "v", &r).ok());
      store->SyncAsync(
          r.sync_token,
          [](void* ctx, const Status& s) { *static_cast<std::atomic<int>*>(ctx) += s.ok(); },
          &done);
    }
  }
  EXPECT_EQ(done.load(), 50);
}

// While one fdatasync is in flight, later writers queue; the next fdatasync starts when it
// returns and covers all of them at once. Writes per fdatasync and the latency histogram
// record both syncs.
TEST(GroupCommitTest, NextSyncCoversEverythingAppendedMeanwhile) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  testing::FaultFileSystem fs;
  fs.SetHook([&](testing::FsOp op, const std::string&) {
    if (op != testing::FsOp::kSync) return Status::OK();
    std::unique_lock lock(mu);
    if (!entered) {  // hold the first sync until the test lets it go
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return Status::OK();
  });
  Options opts = GroupOptions(dir.path());
  opts.fs = &fs;
  auto store = OpenWith(opts);
  WriteResult first;
  ASSERT_TRUE(PutValue(store.get(), "first", "1", &first).ok());
  std::atomic<int> done{0};
  auto count = [](void* ctx, const Status& s) { *static_cast<std::atomic<int>*>(ctx) += s.ok(); };
  store->SyncAsync(first.sync_token, count, &done);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  constexpr int kLater = 20;
  for (int i = 0; i < kLater; ++i) {
    WriteResult r;
    ASSERT_TRUE(PutValue(store.get(), "k" + std::to_string(i), "v", &r).ok());
    store->SyncAsync(r.sync_token, count, &done);
  }
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  while (done.load() < kLater + 1) std::this_thread::yield();
  const Stats st = store->stats();
  EXPECT_EQ(st.fsyncs, 2u);  // one in flight, then one for all 20 that queued behind it
  EXPECT_EQ(st.writes_per_fsync.count, 2u);
  EXPECT_EQ(st.writes_per_fsync.sum, uint64_t{kLater + 1});
  EXPECT_EQ(st.writes_per_fsync.counts[0], 1u);  // le=1: the first sync
  EXPECT_EQ(st.writes_per_fsync.counts[5], 1u);  // le=32 (> 16): the group of 20
  EXPECT_EQ(st.fsync_latency_ns.count, st.fsyncs);
  EXPECT_GT(st.fsync_latency_ns.sum, 0u);
}

TEST(GroupCommitTest, WorksWithEverySecPolicyToo) {
  TempDir dir;
  Options opts = GroupOptions(dir.path());
  opts.fsync = FsyncPolicy::kEverySec;
  auto store = OpenWith(opts);
  WriteResult r;
  ASSERT_TRUE(PutValue(store.get(), "a", "1", &r).ok());
  EXPECT_TRUE(WaitDurable(store.get(), r.sync_token).ok());
  EXPECT_GE(store->durable_token(), r.sync_token);
}

}  // namespace
}  // namespace httpkv::storage
