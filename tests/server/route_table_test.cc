#include "server/base/route_table.h"

#include <gtest/gtest.h>

namespace httpkv::server {
namespace {

using http::Method;

TEST(RouteTable, MatchesFixedPaths) {
  EXPECT_EQ(MatchRoute("/").route, Route::kRoot);
  EXPECT_EQ(MatchRoute("/create").route, Route::kCreate);
  EXPECT_EQ(MatchRoute("/update").route, Route::kUpdate);
  EXPECT_EQ(MatchRoute("/healthz").route, Route::kHealthz);
  EXPECT_EQ(MatchRoute("/readyz").route, Route::kReadyz);
  EXPECT_EQ(MatchRoute("/metrics").route, Route::kMetrics);
  EXPECT_EQ(MatchRoute("/admin/compact").route, Route::kAdminCompact);
  EXPECT_EQ(MatchRoute("*").route, Route::kAsterisk);
}

TEST(RouteTable, KvKeepsTheRawKey) {
  RouteMatch m = MatchRoute("/kv/a%2Fb");
  EXPECT_EQ(m.route, Route::kKv);
  EXPECT_EQ(m.raw_key, "a%2Fb");
  m = MatchRoute("/kv/");  // empty key: the handler rejects it (400), the route exists
  EXPECT_EQ(m.route, Route::kKv);
  EXPECT_EQ(m.raw_key, "");
  EXPECT_EQ(MatchRoute("/kv/x/y").raw_key, "x/y");
}

TEST(RouteTable, NearMissesAreNotRoutes) {
  for (std::string_view p : {"", "/kv", "/KV/a", "/create/", "/Create", "/healthz/", "//",
                             "/metrics?x", "/admin", "/admin/compact/", "/kva"}) {
    EXPECT_EQ(MatchRoute(p).route, Route::kNone) << p;
  }
}

TEST(RouteTable, MethodsAllowed) {
  EXPECT_TRUE(MethodAllowed(Route::kKv, Method::kGet));
  EXPECT_TRUE(MethodAllowed(Route::kKv, Method::kHead));
  EXPECT_TRUE(MethodAllowed(Route::kKv, Method::kPut));
  EXPECT_TRUE(MethodAllowed(Route::kKv, Method::kDelete));
  EXPECT_FALSE(MethodAllowed(Route::kKv, Method::kPost));
  EXPECT_TRUE(MethodAllowed(Route::kCreate, Method::kPost));
  EXPECT_FALSE(MethodAllowed(Route::kCreate, Method::kPut));
  EXPECT_FALSE(MethodAllowed(Route::kCreate, Method::kGet));
  EXPECT_TRUE(MethodAllowed(Route::kUpdate, Method::kPut));
  EXPECT_FALSE(MethodAllowed(Route::kUpdate, Method::kPost));
  for (Route r : {Route::kRoot, Route::kHealthz, Route::kReadyz, Route::kMetrics}) {
    EXPECT_TRUE(MethodAllowed(r, Method::kGet));
    EXPECT_TRUE(MethodAllowed(r, Method::kHead));
    EXPECT_FALSE(MethodAllowed(r, Method::kPut));
    EXPECT_FALSE(MethodAllowed(r, Method::kDelete));
  }
  EXPECT_TRUE(MethodAllowed(Route::kAdminCompact, Method::kPost));
  EXPECT_FALSE(MethodAllowed(Route::kAdminCompact, Method::kGet));
}

TEST(RouteTable, OptionsOnEveryExistingRoute) {
  for (Route r : {Route::kRoot, Route::kCreate, Route::kUpdate, Route::kKv, Route::kHealthz,
                  Route::kReadyz, Route::kMetrics, Route::kAdminCompact, Route::kAsterisk}) {
    EXPECT_TRUE(MethodAllowed(r, Method::kOptions));
  }
  EXPECT_FALSE(MethodAllowed(Route::kNone, Method::kOptions));
  EXPECT_FALSE(MethodAllowed(Route::kNone, Method::kGet));
  EXPECT_FALSE(MethodAllowed(Route::kKv, Method::kOther));
}

TEST(RouteTable, AllowHeaderListsExactlyTheAllowedMethods) {
  const Method all[] = {Method::kGet, Method::kHead,   Method::kPost,
                        Method::kPut, Method::kDelete, Method::kOptions};
  for (Route r : {Route::kRoot, Route::kCreate, Route::kUpdate, Route::kKv, Route::kHealthz,
                  Route::kReadyz, Route::kMetrics, Route::kAdminCompact}) {
    const std::string_view allow = AllowHeader(r);
    for (Method m : all) {
      const std::string name(http::MethodName(m));
      const bool listed =
          (", " + std::string(allow) + ",").find(" " + name + ",") != std::string::npos;
      EXPECT_EQ(listed, MethodAllowed(r, m)) << allow << " / " << name;
    }
  }
  EXPECT_EQ(AllowHeader(Route::kKv), "GET, HEAD, PUT, DELETE, OPTIONS");
  EXPECT_EQ(AllowHeader(Route::kNone), "");
}

}  // namespace
}  // namespace httpkv::server
