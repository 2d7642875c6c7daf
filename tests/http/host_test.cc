// Host field values (RFC 9112 3.2, RFC 3986 3.2.2): the validator alone, then the parser.
#include "http/host.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/http/split_harness.h"

namespace httpkv::http {
namespace {

using testing::Outcome;
using testing::RequestSplitProof;

struct Valid {
  std::string_view value, host, port;
  HostForm form;
  bool has_port;
};

TEST(Host, ValidValuesAreSplitIntoHostAndPort) {
  const Valid cases[] = {
      {"example.com", "example.com", "", HostForm::kRegName, false},
      {"example.com:8080", "example.com", "8080", HostForm::kRegName, true},
      {"x:", "x", "", HostForm::kRegName, true},  // port = *DIGIT
      {":80", "", "80", HostForm::kRegName, true},
      {"127.0.0.1", "127.0.0.1", "", HostForm::kIpv4, false},
      {"127.0.0.1:8080", "127.0.0.1", "8080", HostForm::kIpv4, true},
      {"0.0.0.0", "0.0.0.0", "", HostForm::kIpv4, false},
      {"255.255.255.255", "255.255.255.255", "", HostForm::kIpv4, false},
      {"256.1.1.1", "256.1.1.1", "", HostForm::kRegName, false},  // not IPv4, still a reg-name
      {"01.2.3.4", "01.2.3.4", "", HostForm::kRegName, false},
      {"1.2.3", "1.2.3", "", HostForm::kRegName, false},
      {"[::1]", "[::1]", "", HostForm::kIpLiteral, false},
      {"[::1]:8080", "[::1]", "8080", HostForm::kIpLiteral, true},
      {"[::]", "[::]", "", HostForm::kIpLiteral, false},
      {"[2001:db8::8:800:200c:417a]", "[2001:db8::8:800:200c:417a]", "", HostForm::kIpLiteral,
       false},
      {"[1:2:3:4:5:6:7:8]", "[1:2:3:4:5:6:7:8]", "", HostForm::kIpLiteral, false},
      {"[1:2:3:4:5:6:7::]", "[1:2:3:4:5:6:7::]", "", HostForm::kIpLiteral, false},
      {"[::2:3:4:5:6:7:8]", "[::2:3:4:5:6:7:8]", "", HostForm::kIpLiteral, false},
      {"[::ffff:192.0.2.128]:1", "[::ffff:192.0.2.128]", "1", HostForm::kIpLiteral, true},
      {"[1:2:3:4:5:6:1.2.3.4]", "[1:2:3:4:5:6:1.2.3.4]", "", HostForm::kIpLiteral, false},
      {"[ABCD:ef01::]", "[ABCD:ef01::]", "", HostForm::kIpLiteral, false},
      {"[v1.fe80::a+en1]", "[v1.fe80::a+en1]", "", HostForm::kIpLiteral, false},
      {"[VF.x]:9", "[VF.x]", "9", HostForm::kIpLiteral, true},
      {"a-b_c~d.e", "a-b_c~d.e", "", HostForm::kRegName, false},
      {"caf%C3%A9.example", "caf%C3%A9.example", "", HostForm::kRegName, false},
      {"!$&'()*+,;=", "!$&'()*+,;=", "", HostForm::kRegName, false},        // sub-delims
      {"localhost:65536", "localhost", "65536", HostForm::kRegName, true},  // no range check
  };
  for (const Valid& c : cases) {
    HostParts parts;
    const ParseResult r = ParseHost(c.value, &parts);
    ASSERT_FALSE(r.failed()) << c.value << ": " << r.reason;
    EXPECT_EQ(r.consumed, c.value.size());
    EXPECT_EQ(parts.host, c.host) << c.value;
    EXPECT_EQ(parts.port, c.port) << c.value;
    EXPECT_EQ(parts.form, c.form) << c.value;
    EXPECT_EQ(parts.has_port, c.has_port) << c.value;
  }
}

TEST(Host, InvalidValuesAre400) {
  for (std::string_view bad : {"127.0.0.1/create",
                               "a b",
                               "user@x",
                               "x:8o",
                               "x:80:80",
                               "x:-1",
                               "x: 80",
                               "a/b",
                               "a?b",
                               "a#b",
                               "[::1",
                               "::1",
                               "[::1]x",
                               "[::1]:a",
                               "[::1]]",
                               "[]",
                               "[1:2:3:4:5:6:7:8:9]",
                               "[1:2:3:4:5:6:7]",
                               "[1::2::3]",
                               "[:::]",
                               "[12345::]",
                               "[::g]",
                               "[1.2.3.4]",
                               "[::1.2.3]",
                               "[::1.2.3.4:5]",
                               "[1.2.3.4::]",
                               "[fe80::1%25eth0]",
                               "[v.x]",
                               "[v1.]",
                               "[v1x]",
                               "[vg.x]",
                               "[v1.%41]",
                               "%",
                               "%4",
                               "%zz",
                               "a%2",
                               "\"quoted\"",
                               "a\\b",
                               "a[b]",
                               "a{b}",
                               "a|b",
                               "a^b",
                               "a<b>",
                               "a`b",
                               "caf\xc3\xa9"}) {
    HostParts parts;
    const ParseResult r = ParseHost(bad, &parts);
    EXPECT_EQ(r.kind, ParseResult::kError) << bad;
    EXPECT_EQ(r.status, 400) << bad;
  }
}

TEST(Host, SplitHostPathRecognisesOnlyAValidHostFollowedByAPath) {
  EXPECT_EQ(SplitHostPath("127.0.0.1/create"), 9u);
  EXPECT_EQ(SplitHostPath("127.0.0.1/"), 9u);
  EXPECT_EQ(SplitHostPath("127.0.0.1:8080/ComputerNetwork"), 14u);
  EXPECT_EQ(SplitHostPath("[::1]:80/a/b:c@d%20"), 8u);
  EXPECT_EQ(SplitHostPath("h/kv/a%2Fb"), 1u);
  for (std::string_view no : {"127.0.0.1", "/create", "a b/c", "user@x/c", "x:8o/c", "h/a b",
                              "h/a?b", "h/a#b", "h/%zz", "h/\"", "[::1/x"}) {
    EXPECT_EQ(SplitHostPath(no), std::string_view::npos) << no;
  }
}

std::string Get(std::string_view target, std::string_view host, std::string_view version = "1.1") {
  return "GET " + std::string(target) + " HTTP/" + std::string(version) +
         "\r\nHost: " + std::string(host) + "\r\n\r\n";
}

TEST(RequestParserHost, InvalidHostIs400) {
  for (std::string_view bad : {"a b", "user@x", "x:8o", "[::1", "x:80:80", "a\"b"}) {
    const Outcome o = RequestSplitProof(Get("/", bad));
    EXPECT_EQ(o.kind, ParseResult::kError) << bad;
    EXPECT_EQ(o.status, 400) << bad;
    // HTTP/1.0 does not need Host, but one it sends must still be valid.
    EXPECT_EQ(RequestSplitProof(Get("/", bad, "1.0")).status, 400) << bad;
  }
}

TEST(RequestParserHost, ValidHostIsKept) {
  for (std::string_view ok : {"h", "[::1]:8080", "127.0.0.1:", "a%20b", "[v7.x]"}) {
    const Outcome o = RequestSplitProof(Get("/kv/a", ok));
    ASSERT_EQ(o.kind, ParseResult::kComplete) << ok << ": " << o.reason;
    EXPECT_EQ(o.host, ok);
    EXPECT_EQ(o.host_path, "");
  }
}

TEST(RequestParserHost, EmptyHostOnlyWithoutAuthorityInTheTarget) {
  EXPECT_EQ(RequestSplitProof(Get("/kv/a", "")).kind, ParseResult::kComplete);
  EXPECT_EQ(RequestSplitProof("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n").kind, ParseResult::kComplete);
  const Outcome o = RequestSplitProof(Get("http://h/kv/a", ""));
  EXPECT_EQ(o.status, 400);
  EXPECT_EQ(o.reason, "empty Host with an authority in the target");
  EXPECT_EQ(RequestSplitProof(Get("http://h/kv/a", "h")).kind, ParseResult::kComplete);
}

TEST(RequestParserHost, HostWithPathOnRootTargetIsReportedNotFailed) {
  const std::string in =
      "POST / HTTP/1.1\r\nHost: 127.0.0.1/create\r\nContent-Length: 7\r\n\r\n1:test1";
  const Outcome o = RequestSplitProof(in);
  ASSERT_EQ(o.kind, ParseResult::kComplete) << o.reason;
  EXPECT_EQ(o.host, "127.0.0.1/create");
  EXPECT_EQ(o.host_path, "/create");
  EXPECT_EQ(o.path, "/");
  EXPECT_EQ(o.body, "1:test1");
  EXPECT_EQ(RequestSplitProof(Get("/", "127.0.0.1/")).host_path, "/");
}

TEST(RequestParserHost, HostWithPathOnAnyOtherTargetIs400) {
  for (std::string_view target : {"/create", "/?x=1", "http://h/", "*"}) {
    const Outcome o = RequestSplitProof(Get(target, "127.0.0.1/create"));
    EXPECT_EQ(o.status, 400) << target;
  }
  // And a path after an invalid host is no such shape.
  EXPECT_EQ(RequestSplitProof(Get("/", "a b/create")).status, 400);
  EXPECT_EQ(RequestSplitProof(Get("/", "h/a b")).status, 400);
}

}  // namespace
}  // namespace httpkv::http
