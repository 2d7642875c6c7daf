#include <gtest/gtest.h>

#include "storage/log_store.h"
#include "tests/storage/test_util.h"

namespace httpkv::storage {
namespace {

using testing::OpenOrDie;
using testing::PutValue;
using testing::TempDir;

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Collect(const LogStore& store, std::string_view prefix, std::string_view after,
              size_t limit = SIZE_MAX) {
  Pairs out;
  Status s = store.Scan(ScanOptions{prefix, after, limit}, [&](auto k, auto v) {
    out.emplace_back(k, v);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(dir_.path());
    for (const char* k : {"user:2", "a", "user:10", "user:1", "z", "user:", "usez"}) {
      ASSERT_TRUE(PutValue(store_.get(), k, std::string("v-") + k).ok());
    }
    WriteResult r;
    ASSERT_TRUE(store_->Delete("z", &r).ok());
  }
  TempDir dir_;
  std::unique_ptr<LogStore> store_;
};

TEST_F(ScanTest, ByteOrderWithValues) {
  Pairs all = Collect(*store_, "", "");
  EXPECT_EQ(all, (Pairs{{"a", "v-a"},
                        {"user:", "v-user:"},
                        {"user:1", "v-user:1"},
                        {"user:10", "v-user:10"},
                        {"user:2", "v-user:2"},
                        {"usez", "v-usez"}}));
}

TEST_F(ScanTest, PrefixAfterLimit) {
  auto keys = [](const Pairs& p) {
    std::vector<std::string> k;
    for (auto& [key, v] : p) k.push_back(key);
    return k;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(keys(Collect(*store_, "user:", "")), (V{"user:", "user:1", "user:10", "user:2"}));
  EXPECT_EQ(keys(Collect(*store_, "user:", "user:1")), (V{"user:10", "user:2"}));
  EXPECT_EQ(keys(Collect(*store_, "user:", "", 2)), (V{"user:", "user:1"}));
  EXPECT_EQ(keys(Collect(*store_, "", "user:2")), (V{"usez"}));
  EXPECT_EQ(keys(Collect(*store_, "nope", "")), V{});
  EXPECT_EQ(keys(Collect(*store_, "", "", 0)), V{});
}

TEST_F(ScanTest, CallbackStopsEarly) {
  int calls = 0;
  ASSERT_TRUE(store_->Scan({}, [&](auto, auto) { return ++calls < 3; }).ok());
  EXPECT_EQ(calls, 3);
}

TEST(ScanLargeTest, CrossesBatchesInOrderAndPaginates) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  char key[16];
  for (int i = 0; i < 1000; ++i) {
    std::snprintf(key, sizeof(key), "k%05d", i);
    ASSERT_TRUE(PutValue(store.get(), key, std::to_string(i)).ok());
  }
  // Page through 300 at a time the way GET /?after=&limit= would.
  std::string after;
  int next = 0;
  for (;;) {
    Pairs page = Collect(*store, "k", after, 300);
    if (page.empty()) break;
    for (auto& [k, v] : page) {
      std::snprintf(key, sizeof(key), "k%05d", next);
      ASSERT_EQ(k, key);
      ASSERT_EQ(v, std::to_string(next));
      ++next;
    }
    after = page.back().first;
  }
  EXPECT_EQ(next, 1000);
}

}  // namespace
}  // namespace httpkv::storage
