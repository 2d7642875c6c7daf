// GET /kv/{key} serves the value from the store's segment mapping: the reply body is a view
// into the mapping (copied once, by SerializeReply, into the output), held inside a read
// section that ends with EndRead().
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "storage/epoch.h"
#include "tests/server/offline_server.h"

namespace httpkv::server {
namespace {

// The file /proc/self/maps names for the mapping holding p ("" if none).
std::string MappedFileOf(const void* p) {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return "";
  const auto addr = reinterpret_cast<uintptr_t>(p);
  char line[4096];
  std::string found;
  while (found.empty() && std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long lo = 0, hi = 0;
    int path_at = 0;
    if (std::sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &path_at) < 2) continue;
    if (addr < lo || addr >= hi || path_at == 0) continue;
    found = line + path_at;
    while (!found.empty() && (found.back() == '\n' || found.back() == ' ')) found.pop_back();
    if (found.empty()) found = "<anonymous>";
  }
  std::fclose(f);
  return found;
}

TEST(KvGet, BodyViewsTheSegmentMappingUntilEndRead) {
  testing::OfflineServer srv;
  ASSERT_TRUE(srv.ok());
  const std::string value(100000, 'v');
  ASSERT_TRUE(srv.store()->Put("big", value, storage::Precondition::kNone, 0, nullptr).ok());
  KvRoutes routes(srv.store(), &srv.options(), [](std::string*) {});
  http::Limits limits = srv.options().limits();
  http::RequestParser parser(&limits);
  std::string raw = "GET /kv/big HTTP/1.1\r\nHost: x\r\n\r\n";
  http::Request req;
  ASSERT_EQ(parser.Parse(std::span<char>(raw.data(), raw.size()), &req).kind,
            http::ParseResult::kComplete);

  const Reply reply = routes.Handle(req);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, value);
  EXPECT_TRUE(storage::Epoch::InReadSection());  // the body is pinned ...
  EXPECT_TRUE(MappedFileOf(reply.body.data()).ends_with("/00000001.log"))
      << MappedFileOf(reply.body.data());  // ... and is the log itself, not a copy
  routes.EndRead();
  EXPECT_FALSE(storage::Epoch::InReadSection());
}

}  // namespace
}  // namespace httpkv::server
