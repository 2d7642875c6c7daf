// Blocking HTTP/1.1 client over one keep-alive TCP connection, plus the requests the
// `httpkv` commands send.
//
// Errors follow the rest of the tree: functions return false and fill *error with one line.
// Every exchange has a deadline (the connection's timeout); the socket is non-blocking and
// waited on with poll(), so a silent server cannot hang the client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/response_parser.h"
#include "reactor/inet_address.h"
#include "tools/client/tls_channel.h"

namespace httpkv::client {

inline constexpr std::string_view kUserAgent = "httpkv/0.1";

struct ClientRequest {
  std::string method;
  std::string target;  // origin-form, already percent-encoded
  std::string body;
  bool has_body = false;     // sends Content-Length (and Content-Type if set)
  std::string content_type;  // only with a body
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields
};

// A request without a body.
ClientRequest MakeRequest(std::string_view method, std::string_view target);
// A request with `body` (Content-Length is always sent, even for an empty body).
ClientRequest MakeRequest(std::string_view method, std::string_view target, std::string_view body,
                          std::string_view content_type);

// The request's wire bytes: request line, Host, User-Agent, `Authorization: Bearer TOKEN`
// when bearer_token is set, extra headers, Content-Type and Content-Length when it has a
// body, the empty line and the body.
std::string SerializeRequest(const ClientRequest& req, std::string_view host,
                             std::string_view bearer_token = {});

// RFC 6750 token68 (what --auth-file accepts); anything else could not be a valid token
// and could break the header (CR, LF).
bool IsBearerToken(std::string_view token);

struct ClientResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked
  std::string raw;   // the bytes as received (chunked framing included)
  bool keep_alive = false;

  // First header named `name` (case-insensitive); empty if none.
  std::string_view Header(std::string_view name) const;
  // "201 Created"; falls back to the RFC reason phrase when the server sent none.
  std::string StatusLine() const;
};

class HttpClient {
 public:
  // Connects to `address` within `timeout`. `host` is the Host header value (and, with
  // TLS, the name the server certificate must match).
  static std::optional<HttpClient> Connect(const reactor::InetAddress& address, std::string host,
                                           std::chrono::milliseconds timeout, std::string* error,
                                           const TlsOptions& tls = {});

  // Movable between exchanges (the response parser starts afresh).
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends `req` and reads its response (skipping 1xx interim answers). Fails on I/O
  // errors, timeouts, a malformed response, or when the server closed the connection
  // after the previous response.
  bool RoundTrip(const ClientRequest& req, ClientResponse* resp, std::string* error);

  // The two halves of RoundTrip, for pipelining: Send writes the request, Receive reads
  // the next response (answers come in request order). Each has its own deadline.
  bool Send(const ClientRequest& req, std::string* error);
  bool Receive(bool head_request, ClientResponse* resp, std::string* error);

  // When set, each exchange writes the raw request bytes, a line "-----", the raw response
  // bytes and another "-----" line (a newline is added only where the bytes lack one).
  // The trace shows the token as "<redacted>".
  void set_trace(std::ostream* trace) { trace_ = trace; }
  // Sent as "Authorization: Bearer TOKEN" with every request (--token, HTTPKV_TOKEN).
  void set_bearer_token(std::string token) { bearer_token_ = std::move(token); }
  const std::string& host() const { return host_; }
  // Non-null on a TLS connection.
  const TlsChannel* tls() const { return tls_.get(); }
  bool open() const { return fd_ >= 0 && !peer_closed_; }

 private:
  HttpClient(int fd, std::string host, std::chrono::milliseconds timeout)
      : fd_(fd), host_(std::move(host)), timeout_(timeout) {}

  using Deadline = std::chrono::steady_clock::time_point;
  bool SendAll(std::string_view bytes, Deadline deadline, std::string* error);
  bool ReadResponse(bool head_request, Deadline deadline, ClientResponse* resp, std::string* error);
  // Appends what the socket has to buf_/raw_; 0 on EOF, -1 on error or timeout.
  long ReadSome(Deadline deadline, std::string* error);
  void Consume(size_t n, const http::Response& parsed, ClientResponse* resp);
  void Close();

  int fd_ = -1;
  std::unique_ptr<TlsChannel> tls_;  // destroyed before fd_ is closed (Close)
  std::string host_;
  std::chrono::milliseconds timeout_;
  std::string buf_;  // unconsumed bytes, chunked bodies decoded in place by the parser
  std::string raw_;  // the same bytes untouched, for ClientResponse::raw
  bool peer_closed_ = false;
  http::ResponseParser parser_;
  std::ostream* trace_ = nullptr;
  std::string bearer_token_;
};

// Percent-encodes a query value: everything but unreserved bytes (RFC 3986 2.3) becomes
// %XX, so '&', '=', '+' and ' ' survive a form-style decoder.
std::string PercentEncodeQueryValue(std::string_view in);

// Requests of the single commands.
ClientRequest GetKeyRequest(std::string_view key);
ClientRequest PutKeyRequest(std::string_view key, std::string_view value);
ClientRequest DeleteKeyRequest(std::string_view key);
// `method` is "POST" for create, "PUT" for update; `pair` is "KEY:VALUE".
ClientRequest PairRequest(std::string_view method, std::string_view target, std::string_view pair);

struct ListOptions {
  std::optional<std::string> prefix;
  std::optional<std::string> after;
  std::optional<uint64_t> limit;
  bool json = false;
};
ClientRequest ListRequest(const ListOptions& opts);

// The first line of `body` without its line ending ("" for an empty body).
std::string_view FirstLine(std::string_view body);

}  // namespace httpkv::client
