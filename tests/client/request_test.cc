// Request bytes the client sends, parsed back with the server's strict RequestParser.
#include <gtest/gtest.h>

#include <string>

#include "http/percent.h"
#include "http/request_parser.h"
#include "tools/client/http_client.h"

namespace httpkv::client {
namespace {

// Parses `bytes` as exactly one request; the views in *out point into *storage.
void ParseBack(std::string bytes, std::string* storage, http::Request* out) {
  *storage = std::move(bytes);
  http::Limits limits;
  http::RequestParser parser(&limits);
  const http::ParseResult r = parser.Parse(std::span<char>(storage->data(), storage->size()), out);
  ASSERT_EQ(r.kind, http::ParseResult::kComplete) << r.reason << "\n" << *storage;
  EXPECT_EQ(r.consumed, storage->size());
}

TEST(SerializeRequest, BodilessGetHasNoContentLength) {
  const std::string bytes = SerializeRequest(GetKeyRequest("a"), "127.0.0.1:8080");
  EXPECT_EQ(bytes, "GET /kv/a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: httpkv/0.1\r\n\r\n");
  std::string storage;
  http::Request req;
  ParseBack(bytes, &storage, &req);
  EXPECT_EQ(req.method, http::Method::kGet);
  EXPECT_EQ(req.host, "127.0.0.1:8080");
  EXPECT_FALSE(req.has_content_length);
  EXPECT_TRUE(req.keep_alive);
}

TEST(SerializeRequest, BearerTokenGoesInTheAuthorizationHeader) {
  const std::string bytes = SerializeRequest(GetKeyRequest("a"), "h:1", "tok-EN.1==");
  EXPECT_EQ(bytes,
            "GET /kv/a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: httpkv/0.1\r\n"
            "Authorization: Bearer tok-EN.1==\r\n\r\n");
}

TEST(IsBearerToken, OnlyToken68) {
  EXPECT_TRUE(IsBearerToken("abc-._~+/XYZ09=="));
  EXPECT_FALSE(IsBearerToken(""));
  EXPECT_FALSE(IsBearerToken("a\r\nX-Injected: 1"));
  EXPECT_FALSE(IsBearerToken("a b"));
  EXPECT_FALSE(IsBearerToken("=a"));
  EXPECT_FALSE(IsBearerToken("a=b"));
}

TEST(SerializeRequest, PutCarriesRawBodyAndLength) {
  const std::string value("bin\0ary\r\n\xff", 10);
  std::string storage;
  http::Request req;
  ParseBack(SerializeRequest(PutKeyRequest("k", value), "h:1"), &storage, &req);
  EXPECT_EQ(req.method, http::Method::kPut);
  EXPECT_EQ(req.target, "/kv/k");
  EXPECT_EQ(req.body, value);
  EXPECT_EQ(req.Find("Content-Type"), "application/octet-stream");
  EXPECT_EQ(req.Find("Content-Length"), "10");
  EXPECT_EQ(req.Find("User-Agent"), "httpkv/0.1");
}

TEST(SerializeRequest, EmptyValueStillSendsContentLengthZero) {
  std::string storage;
  http::Request req;
  ParseBack(SerializeRequest(PutKeyRequest("k", ""), "h"), &storage, &req);
  EXPECT_TRUE(req.has_content_length);
  EXPECT_EQ(req.Find("Content-Length"), "0");
}

TEST(SerializeRequest, KeysArePercentEncodedAsOneSegment) {
  const std::string key = "a b/c?d%e#f\xc3\xa9";
  std::string storage;
  http::Request req;
  ParseBack(SerializeRequest(DeleteKeyRequest(key), "h"), &storage, &req);
  EXPECT_EQ(req.method, http::Method::kDelete);
  EXPECT_EQ(req.path, "/kv/a%20b%2Fc%3Fd%25e%23f%C3%A9");
  EXPECT_TRUE(req.query.empty());
  std::string decoded;
  ASSERT_FALSE(http::PercentDecode(req.path.substr(4), &decoded).failed());
  EXPECT_EQ(decoded, key);
}

TEST(SerializeRequest, CreateAndUpdateSendThePairAsText) {
  std::string storage;
  http::Request req;
  ParseBack(SerializeRequest(PairRequest("POST", "/create", "1:test1"), "h"), &storage, &req);
  EXPECT_EQ(req.method, http::Method::kPost);
  EXPECT_EQ(req.target, "/create");
  EXPECT_EQ(req.body, "1:test1");
  EXPECT_EQ(req.Find("Content-Type"), "text/plain");
  ParseBack(SerializeRequest(PairRequest("PUT", "/update", "1:test5"), "h"), &storage, &req);
  EXPECT_EQ(req.method, http::Method::kPut);
  EXPECT_EQ(req.target, "/update");
  EXPECT_EQ(req.body, "1:test5");
}

TEST(ListRequest, NoOptionsIsPlainRoot) {
  const ClientRequest req = ListRequest({});
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/");
  EXPECT_TRUE(req.headers.empty());
  EXPECT_FALSE(req.has_body);
}

TEST(ListRequest, QueryValuesAreEncodedAndJsonAsksForIt) {
  ListOptions opts;
  opts.prefix = "a&b=c+d e";
  opts.after = "~x/y";
  opts.limit = 10;
  opts.json = true;
  std::string storage;
  http::Request req;
  ParseBack(SerializeRequest(ListRequest(opts), "h"), &storage, &req);
  EXPECT_EQ(req.path, "/");
  EXPECT_EQ(req.query, "prefix=a%26b%3Dc%2Bd%20e&after=~x%2Fy&limit=10");
  EXPECT_EQ(req.Find("Accept"), "application/json");
}

TEST(ListRequest, OnlyGivenParametersAreSent) {
  ListOptions opts;
  opts.limit = 0;
  EXPECT_EQ(ListRequest(opts).target, "/?limit=0");
  opts = {};
  opts.after = "";
  EXPECT_EQ(ListRequest(opts).target, "/?after=");
}

TEST(PercentEncodeQueryValue, KeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncodeQueryValue("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncodeQueryValue(std::string("\0\x7f\x80:@!", 6)), "%00%7F%80%3A%40%21");
}

TEST(FirstLine, StopsAtLineEnd) {
  EXPECT_EQ(FirstLine(""), "");
  EXPECT_EQ(FirstLine("one"), "one");
  EXPECT_EQ(FirstLine("one\ntwo"), "one");
  EXPECT_EQ(FirstLine("one\r\ntwo\r\n"), "one");
}

TEST(ClientResponse, HeaderLookupAndStatusLine) {
  ClientResponse r;
  r.status = 404;
  r.headers = {{"Content-Type", "text/plain"}};
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("ETag"), "");
  EXPECT_EQ(r.StatusLine(), "404 Not Found");  // no reason sent: the RFC phrase
  r.reason = "Nope";
  EXPECT_EQ(r.StatusLine(), "404 Nope");
}

}  // namespace
}  // namespace httpkv::client
