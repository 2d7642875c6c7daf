// Chunked request bodies (RFC 9112 7.1): decoded and stored; malformed chunk framing is
// answered 400 and closes the connection.
#include <string>

#include "tests/conformance/conformance.h"

namespace httpkv::conformance {
namespace {

class ChunkedTest : public ConformanceTest {
 protected:
  ChunkedTest() : ConformanceTest(/*max_value=*/64) {}

  static std::string PutChunked(std::string_view key, std::string_view chunks) {
    return "PUT /kv/" + std::string(key) +
           " HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(chunks);
  }
};

TEST_F(ChunkedTest, DecodedValueIsStoredAndReadBack) {
  struct Case {
    std::string_view chunks;
    std::string_view value;
  } cases[] = {
      {"5\r\nhello\r\n0\r\n\r\n", "hello"},
      {"3\r\nabc\r\n3\r\ndef\r\n1\r\ng\r\n0\r\n\r\n", "abcdefg"},
      {"A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},         // upper-case hex
      {"a\r\n0123456789\r\n0000\r\n\r\n", "0123456789"},      // lower-case, padded last
      {"0005\r\nhe\r\nl\r\n0\r\n\r\n", "he\r\nl"},            // leading zeros, CRLF in data
      {"4;name=value\r\nabcd\r\n0;x\r\n\r\n", "abcd"},        // extensions
      {"4 ; q=\"a b\"\r\nabcd\r\n0\r\n\r\n", "abcd"},         // OWS, quoted extension
      {"2\r\nab\r\n0\r\nTrailer-A: 1\r\nB: \r\n\r\n", "ab"},  // trailers dropped
      {"0\r\n\r\n", ""},                                      // empty value
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string key = "c" + std::to_string(i++);
    ExpectAnswered(
        [&](const std::string& tag) {
          return PutChunked(key + tag, c.chunks) + BuildRequest("GET", "/kv/" + key + tag);
        },
        {201, 200});
    for (Feed f : kFeeds) {
      e2e::Reply r = e2e::Request(port(), "GET", "/kv/" + key + FeedName(f));
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.body, c.value) << Escape(c.chunks);
    }
  }
}

TEST_F(ChunkedTest, ChunkedPostCreate) {
  ExpectAnswered(
      [](const std::string& tag) {
        return "POST /create HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
               std::string("2\r\np") + tag[0] + "\r\n3\r\n:vv\r\n0\r\n\r\n";
      },
      {201});
  EXPECT_EQ(e2e::Request(port(), "GET", "/kv/pw").body, "vv");
}

TEST_F(ChunkedTest, BadChunkSizeIs400) {
  for (std::string_view size : {"0x5", "g", "-5", "+5", " 5", "", ";ext", "5 5", "1_0"}) {
    ExpectRejected(PutChunked("bad", std::string(size) + "\r\nhello\r\n0\r\n\r\n"), 400);
  }
}

TEST_F(ChunkedTest, ChunkSizeOverflowIs400) {
  ExpectRejected(PutChunked("big", "10000000000000000\r\nx\r\n"), 400);    // 17 digits
  ExpectRejected(PutChunked("big", "fffffffffffffffff\r\nx\r\n"), 400);    // > 64 bits
  ExpectRejected(PutChunked("big", "0000000000000000001\r\nx\r\n"), 400);  // 19 digits
}

TEST_F(ChunkedTest, DataNotFollowedByCrlfIs400) {
  ExpectRejected(PutChunked("crlf", "3\r\nabcX\r\n0\r\n\r\n"), 400);  // chunk longer than said
  ExpectRejected(PutChunked("crlf", "5\r\nabc\r\n0\r\n\r\n"), 400);   // shorter than said
  ExpectRejected(PutChunked("crlf", "3\r\nabc\n0\r\n\r\n"), 400);
  ExpectRejected(PutChunked("crlf", "3\r\nabc\r0\r\n\r\n"), 400);
}

TEST_F(ChunkedTest, BadExtensionsAndTrailersAre400) {
  ExpectRejected(PutChunked("ext", "3;a\x01\r\nabc\r\n0\r\n\r\n"), 400);
  ExpectRejected(PutChunked("tr", "3\r\nabc\r\n0\r\nBad Name: x\r\n\r\n"), 400);
  ExpectRejected(PutChunked("tr", "3\r\nabc\r\n0\r\nNoColon\r\n\r\n"), 400);
  ExpectRejected(PutChunked("tr", "3\r\nabc\r\n0\r\nA: 1\r\n b\r\n\r\n"), 400);  // obs-fold
  ExpectRejected(PutChunked("tr", "3\r\nabc\r\n0\r\nA: 1\n\r\n"), 400);
}

// RFC 9112 7.1.1, exactly: chunk-ext = *( BWS ";" BWS token [ BWS "=" BWS ( token /
// quoted-string ) ] ). Every other extension is 400, on any chunk, the last one included.
TEST_F(ChunkedTest, ExtensionGrammarIsAppliedExactly) {
  for (std::string_view ext :
       {";", "; ", ";;a", ";a;", ";=v", ";a=", ";a= ", ";a=b ", ";a ", " ", ";a b", ";a=b c",
        ";a=\"open", ";a=\"x\"y", ";a=b=c", ";a=(b)", ";a=\"\x7f\"", ";a\x80"}) {
    SCOPED_TRACE(Escape(ext));
    ExpectRejected(PutChunked("ext", "5" + std::string(ext) + "\r\nhello\r\n0\r\n\r\n"), 400);
    ExpectRejected(PutChunked("ext", "5\r\nhello\r\n0" + std::string(ext) + "\r\n\r\n"), 400);
  }
}

TEST_F(ChunkedTest, EveryExtensionFormTheGrammarAllowsIsAccepted) {
  int i = 0;
  for (std::string_view ext : {";a", ";a=b", " ;a", "\t;\ta", ";a = b", ";a=\"\"",
                               ";a=\"x;y=\\\"z\\\"\"", ";a;b=c;d", ";!#$%&'*+-.^_`|~=~"}) {
    SCOPED_TRACE(Escape(ext));
    const std::string key = "ext" + std::to_string(i++);
    ExpectAnswered(
        [&](const std::string& tag) {
          return PutChunked(key + tag, "5" + std::string(ext) + "\r\nhello\r\n0" +
                                           std::string(ext) + "\r\n\r\n") +
                 BuildRequest("GET", "/kv/" + key + tag);
        },
        {201, 200});
  }
}

TEST_F(ChunkedTest, DecodedSizeOverMaxValueIs413) {
  const std::string chunk(40, 'x');
  ExpectRejected(PutChunked("huge", "28\r\n" + chunk + "\r\n28\r\n" + chunk + "\r\n0\r\n\r\n"),
                 413);
  // One chunk announcing more than max-value is refused before its data arrives.
  for (Feed f : kFeeds) {
    RawClient c(port());
    SendVia(c, PutChunked("huge", "1000\r\n"), f);
    ExpectErrorThenClose(c, 413);
  }
  // Exactly max-value is fine.
  ExpectAnswered(
      [&](const std::string& tag) {
        return PutChunked("max-" + tag, "20\r\n" + chunk.substr(0, 32) + "\r\n20\r\n" +
                                            chunk.substr(0, 32) + "\r\n0\r\n\r\n");
      },
      {201});
}

TEST_F(ChunkedTest, RequestAfterChunkedBodyIsAnsweredInOrder) {
  ExpectAnswered(
      [](const std::string& tag) {
        return PutChunked("seq-" + tag, "1\r\na\r\n0\r\n\r\n") +
               PutChunked("seq-" + tag, "1\r\nb\r\n0\r\n\r\n") +
               BuildRequest("GET", "/kv/seq-" + tag);
      },
      {201, 204, 200});
}

}  // namespace
}  // namespace httpkv::conformance
