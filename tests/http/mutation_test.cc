// Randomized robustness: mutated requests and responses must parse identically at every
// split point (and, under ASan, without touching memory outside the given span).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/http/split_harness.h"

namespace httpkv::http {
namespace {

const char* const kSeeds[] = {
    "GET /a?b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "POST /create HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nk:v12",
    ("PUT /kv/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"),
    "\r\nOPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
};

const char kAlphabet[] = "\r\n :;,0123456789abcdefxGHTP/.\t\x01\x7f\x80";

std::string Mutate(std::string s, std::mt19937* rng) {
  const int edits = 1 + static_cast<int>((*rng)() % 3);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    const size_t pos = (*rng)() % s.size();
    const char c = kAlphabet[(*rng)() % (sizeof(kAlphabet) - 1)];
    switch ((*rng)() % 3) {
      case 0:
        s[pos] = c;
        break;
      case 1:
        s.insert(s.begin() + static_cast<ptrdiff_t>(pos), c);
        break;
      default:
        s.erase(pos, 1);
        break;
    }
  }
  return s;
}

TEST(Mutation, RequestsAreSplitProof) {
  std::mt19937 rng(12345);
  Limits limits;
  limits.max_request_line = 40;  // small limits so mutations also hit 414/431/413
  limits.max_header_bytes = 90;
  limits.max_headers = 3;
  limits.max_body = 6;
  int complete = 0, errors = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string in = Mutate(kSeeds[i % 4], &rng);
    SCOPED_TRACE(::testing::PrintToString(in));
    testing::Outcome o = testing::RequestSplitProof(in, limits);
    complete += o.kind == ParseResult::kComplete;
    errors += o.kind == ParseResult::kError;
    if (o.kind == ParseResult::kComplete) {
      EXPECT_LE(o.consumed, in.size());
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(complete, 20);
  EXPECT_GT(errors, 100);
}

TEST(Mutation, ResponsesAreSplitProof) {
  const char* seeds[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x\r\nab\r\n0\r\n\r\n",
      "HTTP/1.0 200 OK\r\n\r\nuntil close",
  };
  std::mt19937 rng(777);
  for (int i = 0; i < 300; ++i) {
    const std::string in = Mutate(seeds[i % 3], &rng);
    SCOPED_TRACE(::testing::PrintToString(in));
    testing::ResponseSplitProof(in, false, i % 2 == 0);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace httpkv::http
