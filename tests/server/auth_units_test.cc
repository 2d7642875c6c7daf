// The pieces of --auth-file and protected mode, without sockets: the token file parser,
// the constant-time comparator and lookup, the Authorization header, the scope each
// route needs, and the loopback classifier of protected mode.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "server/auth/access_check.h"
#include "server/auth/peer_policy.h"
#include "server/auth/token_file.h"
#include "server/auth/token_set.h"

namespace httpkv::server {
namespace {

using http::Method;

// ---- token file ----

std::string ParseError(std::string_view text) {
  TokenSet set;
  std::string error;
  EXPECT_FALSE(ParseTokenFile(text, &set, &error)) << text;
  return error;
}

TEST(TokenFile, ParsesTokensScopesNamesCommentsAndBlankLines) {
  TokenSet set;
  std::string error;
  ASSERT_TRUE(
      ParseTokenFile("# tokens\n"
                     "\n"
                     "   \t \n"
                     "r3adT0ken-abc read alice\n"
                     "\twr1te.Token_x~+/== write   # bob's deploy key\n"
                     "adm1nTokenXYZ admin\r\n",
                     &set, &error))
      << error;
  ASSERT_EQ(set.size(), 3u);
  const TokenSet::Entry* e = set.Find("r3adT0ken-abc");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->scope, Scope::kRead);
  EXPECT_EQ(e->name, "alice");
  ASSERT_NE(set.Find("wr1te.Token_x~+/=="), nullptr);
  EXPECT_EQ(set.Find("wr1te.Token_x~+/==")->scope, Scope::kWrite);
  ASSERT_NE(set.Find("adm1nTokenXYZ"), nullptr);
  EXPECT_EQ(set.Find("adm1nTokenXYZ")->scope, Scope::kAdmin);
  EXPECT_EQ(set.Find("adm1nTokenXYZ")->name, "line 6");  // no NAME: the line names it
  EXPECT_EQ(set.CountWithScope(Scope::kWrite), 1u);
  // What a replica presents to its primary: the first admin token, in file order.
  EXPECT_EQ(set.FirstWithScope(Scope::kAdmin), "adm1nTokenXYZ");
  EXPECT_EQ(set.FirstWithScope(Scope::kRead), "r3adT0ken-abc");
  set.Add("second-admin", Scope::kAdmin, "later");
  EXPECT_EQ(set.FirstWithScope(Scope::kAdmin), "adm1nTokenXYZ");
  EXPECT_EQ(TokenSet().FirstWithScope(Scope::kAdmin), "");
}

TEST(TokenFile, BadLinesAreErrorsNamingTheLine) {
  EXPECT_EQ(ParseError("good1 read\nbad\n"),
            "line 2: expected TOKEN SCOPE [NAME], found one field");
  EXPECT_EQ(ParseError("tok read a b\n"),
            "line 1: expected TOKEN SCOPE [NAME], found more than three fields");
  EXPECT_EQ(ParseError("#\ntok rw\n"),
            "line 2: unknown scope \"rw\" (expected read, write or admin)");
  EXPECT_EQ(ParseError("tok READ\n"),
            "line 1: unknown scope \"READ\" (expected read, write or admin)");
  EXPECT_EQ(ParseError("a read\nb write\na admin\n"),
            "line 3: duplicate token (each token may appear once)");
  for (std::string_view bad : {"to\"k read", "tok,en read", "=abc read", "ab=c read", "tök read",
                               "tok;x write", "a:b read"}) {
    EXPECT_NE(ParseError(bad).find("line 1: token has a character outside"), std::string::npos)
        << bad;
  }
  EXPECT_EQ(ParseError(std::string(kMaxTokenBytes + 1, 'a') + " read"),
            "line 1: token longer than 256 bytes");
  EXPECT_NE(ParseError("tok read " + std::string(65, 'n')).find("line 1: name"), std::string::npos);
  EXPECT_EQ(ParseError(std::string("tok read\nx\0y read\n", 19)), "line 2: contains a NUL byte");
  EXPECT_EQ(ParseError("# only comments\n\n"),
            "no tokens (every request but /healthz and /readyz would get 401)");
  EXPECT_EQ(ParseError(""), "no tokens (every request but /healthz and /readyz would get 401)");
}

TEST(TokenFile, ErrorsNeverQuoteTheToken) {
  const std::string secret = "s3cretTokenValue";
  EXPECT_EQ(ParseError(secret + " superuser\n").find(secret), std::string::npos);
  EXPECT_EQ(ParseError(secret + " read\n" + secret + " write\n").find(secret), std::string::npos);
  EXPECT_EQ(ParseError(secret + "\"x read\n").find(secret), std::string::npos);
}

TEST(TokenFile, LoadWarnsAboutAFileOthersCanReadAndReportsMissingFiles) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("httpkv-tokens-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tokens").string();
  std::ofstream(path) << "tok1 read\n";
  TokenSet set;
  std::string error, warning;
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_TRUE(LoadTokenFile(path, &set, &error, &warning)) << error;
  EXPECT_EQ(warning, "");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(LoadTokenFile(path, &set, &error, &warning)) << error;
  EXPECT_EQ(warning, path + " is accessible by other users (mode 0644); chmod 600 it");
  std::ofstream(path) << "tok1 read\ntok2 sudo\n";
  EXPECT_FALSE(LoadTokenFile(path, &set, &error, &warning));
  EXPECT_EQ(error, path + " line 2: unknown scope \"sudo\" (expected read, write or admin)");
  EXPECT_FALSE(LoadTokenFile((dir / "missing").string(), &set, &error, &warning));
  EXPECT_EQ(error, (dir / "missing").string() + ": No such file or directory");
  EXPECT_FALSE(LoadTokenFile(dir.string(), &set, &error, &warning));
  std::filesystem::remove_all(dir);
}

// ---- constant-time comparison and lookup ----

TEST(TokenEquals, AnswersCorrectlyForPrefixesLengthsAndSingleBytes) {
  EXPECT_TRUE(TokenEquals("abcdef", "abcdef"));
  EXPECT_FALSE(TokenEquals("abcde", "abcdef"));    // prefix of the stored token
  EXPECT_FALSE(TokenEquals("abcdefg", "abcdef"));  // stored token is a prefix
  EXPECT_FALSE(TokenEquals("", "abcdef"));
  EXPECT_FALSE(TokenEquals("abcdeF", "abcdef"));  // last byte
  EXPECT_FALSE(TokenEquals("Abcdef", "abcdef"));  // first byte
  // Zero padding must not make a shorter token equal to one ending in NUL bytes.
  EXPECT_FALSE(TokenEquals(std::string_view("abc\0", 4), "abc"));
  const std::string max(kMaxTokenBytes, 'z');
  EXPECT_TRUE(TokenEquals(max, max));
  EXPECT_FALSE(TokenEquals(max + "z", max + "z"));  // longer than any token may be
  std::string other = max;
  other[kMaxTokenBytes - 1] = 'y';
  EXPECT_FALSE(TokenEquals(other, max));
}

TEST(TokenSetFind, FindsExactlyTheEqualTokenAmongMany) {
  TokenSet set;
  set.Add("alpha", Scope::kRead, "a");
  set.Add("alphabet", Scope::kWrite, "b");
  set.Add("alp", Scope::kAdmin, "c");
  ASSERT_NE(set.Find("alpha"), nullptr);
  EXPECT_EQ(set.Find("alpha")->name, "a");
  EXPECT_EQ(set.Find("alphabet")->name, "b");
  EXPECT_EQ(set.Find("alp")->name, "c");
  EXPECT_EQ(set.Find("alph"), nullptr);
  EXPECT_EQ(set.Find("alphabets"), nullptr);
  EXPECT_EQ(set.Find(""), nullptr);
  EXPECT_EQ(set.Find(std::string(kMaxTokenBytes + 1, 'a')), nullptr);
  EXPECT_EQ(TokenSet().Find("alpha"), nullptr);
}

// ---- Authorization header and scopes ----

TEST(BearerToken, AcceptsOnlyBearerToken68) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc=="), "abc==");
  EXPECT_EQ(BearerToken("BEARER   a.b-c_d~e+f/g"), "a.b-c_d~e+f/g");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
  EXPECT_EQ(BearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), "");
  EXPECT_EQ(BearerToken("Bearer abc def"), "");
  EXPECT_EQ(BearerToken("Bearer a=b"), "");
  EXPECT_EQ(BearerToken("Bearer \"abc\""), "");
  EXPECT_EQ(BearerToken(""), "");
}

TEST(RequiredScope, EveryRouteAndMethod) {
  const Method kAll[] = {Method::kGet,    Method::kHead,    Method::kPost, Method::kPut,
                         Method::kDelete, Method::kOptions, Method::kOther};
  for (Method m : kAll) {
    EXPECT_EQ(RequiredScope(Route::kHealthz, m), Scope::kOpen);
    EXPECT_EQ(RequiredScope(Route::kReadyz, m), Scope::kOpen);
    EXPECT_EQ(RequiredScope(Route::kAdminCompact, m), Scope::kAdmin);
    const bool writes = m == Method::kPost || m == Method::kPut || m == Method::kDelete;
    for (Route r : {Route::kRoot, Route::kCreate, Route::kUpdate, Route::kKv, Route::kMetrics,
                    Route::kAsterisk, Route::kNone}) {
      EXPECT_EQ(RequiredScope(r, m), writes ? Scope::kWrite : Scope::kRead)
          << RouteName(r) << " " << http::MethodName(m);
    }
  }
}

http::Request RequestWith(Method m, std::string_view path,
                          std::initializer_list<std::string_view> authorization) {
  http::Request req;
  req.method = m;
  req.path = path;
  req.headers[req.num_headers++] = {"Host", "x"};
  for (std::string_view v : authorization) req.headers[req.num_headers++] = {"authorization", v};
  return req;
}

TEST(CheckAccess, DecidesOnTheRoutedRouteAndTheTokensScope) {
  TokenSet set;
  set.Add("rtok", Scope::kRead, "r");
  set.Add("wtok", Scope::kWrite, "w");
  set.Add("atok", Scope::kAdmin, "a");
  auto decide = [&](Method m, Route route, std::initializer_list<std::string_view> auth) {
    return CheckAccess(&set, RequestWith(m, "/", auth), route).denial;
  };
  EXPECT_EQ(decide(Method::kGet, Route::kHealthz, {}), Denial::kNone);
  EXPECT_EQ(decide(Method::kGet, Route::kKv, {}), Denial::kMissingToken);
  EXPECT_EQ(decide(Method::kGet, Route::kNone, {}), Denial::kMissingToken);
  EXPECT_EQ(decide(Method::kGet, Route::kKv, {"Bearer nope"}), Denial::kUnknownToken);
  EXPECT_EQ(decide(Method::kGet, Route::kKv, {"Basic rtok"}), Denial::kMalformedHeader);
  EXPECT_EQ(decide(Method::kGet, Route::kKv, {"Bearer rtok", "Bearer rtok"}),
            Denial::kMalformedHeader);
  EXPECT_EQ(decide(Method::kGet, Route::kKv, {"Bearer rtok"}), Denial::kNone);
  EXPECT_EQ(decide(Method::kPut, Route::kKv, {"Bearer rtok"}), Denial::kScope);
  EXPECT_EQ(decide(Method::kPut, Route::kKv, {"Bearer wtok"}), Denial::kNone);
  EXPECT_EQ(decide(Method::kPost, Route::kAdminCompact, {"Bearer wtok"}), Denial::kScope);
  EXPECT_EQ(decide(Method::kPost, Route::kAdminCompact, {"Bearer atok"}), Denial::kNone);
  EXPECT_EQ(
      CheckAccess(nullptr, RequestWith(Method::kGet, "/", {"Bearer rtok"}), Route::kKv).denial,
      Denial::kUnknownToken);
}

TEST(DenialReply, Is401WithTheChallengeOr403WithoutIt) {
  AccessDecision d;
  d.denial = Denial::kMissingToken;
  d.needed = Scope::kRead;
  Reply r = DenialReply(d, Route::kKv);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.www_authenticate, "Bearer realm=\"httpkv\"");
  TokenSet::Entry who{Scope::kWrite, "w"};
  d.denial = Denial::kScope;
  d.needed = Scope::kAdmin;
  d.who = &who;
  r = DenialReply(d, Route::kAdminCompact);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.www_authenticate, "");
  EXPECT_EQ(r.body, "forbidden: this token has the write scope; this request needs admin\n");
}

// ---- protected mode ----

bool V4IsLoopback(const char* text) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, text, &in.sin_addr), 1) << text;
  return IsLoopbackAddress(reinterpret_cast<const sockaddr*>(&in), sizeof in);
}

bool V6IsLoopback(const char* text) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  EXPECT_EQ(::inet_pton(AF_INET6, text, &in6.sin6_addr), 1) << text;
  return IsLoopbackAddress(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
}

TEST(PeerPolicy, LoopbackIs127Slash8AndV6LoopbackAndMappedV4Loopback) {
  for (const char* yes : {"127.0.0.1", "127.0.0.2", "127.255.255.254", "127.1.2.3"})
    EXPECT_TRUE(V4IsLoopback(yes)) << yes;
  for (const char* no :
       {"10.0.0.1", "0.0.0.0", "128.0.0.1", "126.255.255.255", "192.168.1.127", "255.255.255.255"})
    EXPECT_FALSE(V4IsLoopback(no)) << no;
  for (const char* yes : {"::1", "::ffff:127.0.0.1", "::ffff:127.9.8.7"})
    EXPECT_TRUE(V6IsLoopback(yes)) << yes;
  for (const char* no : {"::", "::2", "fe80::1", "::ffff:10.0.0.1", "::127.0.0.1", "2001:db8::1",
                         "::ffff:128.0.0.1", "1::1"})
    EXPECT_FALSE(V6IsLoopback(no)) << no;
  sockaddr_in short_v4{};
  short_v4.sin_family = AF_INET;
  EXPECT_FALSE(IsLoopbackAddress(reinterpret_cast<const sockaddr*>(&short_v4), 4));
  EXPECT_FALSE(IsLoopbackAddress(nullptr, 0));
  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_FALSE(IsLoopbackAddress(&unix_like, sizeof unix_like));
}

TEST(PeerPolicy, ReasonNamesBothWaysOut) {
  EXPECT_NE(kProtectedModeBody.find("--auth-file"), std::string_view::npos);
  EXPECT_NE(kProtectedModeBody.find("--protected-mode off"), std::string_view::npos);
  EXPECT_EQ(kProtectedModeBody.find('\n'), kProtectedModeBody.size() - 1);  // one line
}

}  // namespace
}  // namespace httpkv::server
