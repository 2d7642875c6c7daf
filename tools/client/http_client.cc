#include "tools/client/http_client.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "http/percent.h"
#include "http/status.h"

namespace httpkv::client {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(int err) {
  return std::strerror(err);
}

// Milliseconds left until `deadline` (0 when past), for poll().
int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)) : 0;
}

// Waits for `events` on fd. 1 ready, 0 timed out, -1 error (errno set).
int WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

void TraceBytes(std::ostream* trace, std::string_view bytes) {
  trace->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (bytes.empty() || bytes.back() != '\n') *trace << '\n';
  *trace << "-----\n";
  trace->flush();
}

}  // namespace

ClientRequest MakeRequest(std::string_view method, std::string_view target) {
  ClientRequest req;
  req.method = method;
  req.target = target;
  return req;
}

ClientRequest MakeRequest(std::string_view method, std::string_view target, std::string_view body,
                          std::string_view content_type) {
  ClientRequest req = MakeRequest(method, target);
  req.body = body;
  req.has_body = true;
  req.content_type = content_type;
  return req;
}

std::string SerializeRequest(const ClientRequest& req, std::string_view host,
                             std::string_view bearer_token) {
  std::string out;
  out.reserve(128 + req.target.size() + req.body.size());
  out.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(host).append("\r\n");
  out.append("User-Agent: ").append(kUserAgent).append("\r\n");
  if (!bearer_token.empty()) out.append("Authorization: Bearer ").append(bearer_token) += "\r\n";
  for (const auto& [name, value] : req.headers)
    out.append(name).append(": ").append(value) += "\r\n";
  if (req.has_body) {
    if (!req.content_type.empty()) out.append("Content-Type: ").append(req.content_type) += "\r\n";
    out.append("Content-Length: ").append(std::to_string(req.body.size())) += "\r\n";
  }
  out.append("\r\n");
  if (req.has_body) out.append(req.body);
  return out;
}

bool IsBearerToken(std::string_view token) {
  size_t i = 0;
  auto tchar = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < token.size() && tchar(token[i])) ++i;
  if (i == 0) return false;
  while (i < token.size() && token[i] == '=') ++i;
  return i == token.size();
}

std::string_view ClientResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (http::EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

std::string ClientResponse::StatusLine() const {
  const std::string_view r = reason.empty() ? http::ReasonPhrase(status) : reason;
  return std::to_string(status) + " " + std::string(r);
}

std::optional<HttpClient> HttpClient::Connect(const reactor::InetAddress& address, std::string host,
                                              std::chrono::milliseconds timeout, std::string* error,
                                              const TlsOptions& tls) {
  const std::string prefix = "cannot connect to " + host + ": ";
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = prefix + ErrnoText(errno);
    return std::nullopt;
  }
  HttpClient client(fd, std::move(host), timeout);
  if (::connect(fd, address.sockaddr_ptr(), address.length()) != 0) {
    if (errno != EINPROGRESS) {
      *error = prefix + ErrnoText(errno);
      return std::nullopt;
    }
    const int ready = WaitFor(fd, POLLOUT, Clock::now() + timeout);
    int err = ready < 0 ? errno : 0;
    socklen_t len = sizeof(err);
    if (ready == 0) {
      *error = prefix + "timed out";
      return std::nullopt;
    }
    if (ready > 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      *error = prefix + ErrnoText(err);
      return std::nullopt;
    }
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (tls.enabled) {
    client.tls_ = TlsChannel::Open(fd, tls, client.host_, Clock::now() + timeout, error);
    if (!client.tls_) {
      *error = prefix + *error;
      return std::nullopt;
    }
  }
  return client;
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      tls_(std::move(other.tls_)),
      host_(std::move(other.host_)),
      timeout_(other.timeout_),
      buf_(std::move(other.buf_)),
      raw_(std::move(other.raw_)),
      peer_closed_(other.peer_closed_),
      trace_(other.trace_),
      bearer_token_(std::move(other.bearer_token_)) {}

HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    tls_ = std::move(other.tls_);
    host_ = std::move(other.host_);
    timeout_ = other.timeout_;
    buf_ = std::move(other.buf_);
    raw_ = std::move(other.raw_);
    peer_closed_ = other.peer_closed_;
    parser_.Reset();
    trace_ = other.trace_;
    bearer_token_ = std::move(other.bearer_token_);
  }
  return *this;
}

HttpClient::~HttpClient() {
  Close();
}

void HttpClient::Close() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpClient::RoundTrip(const ClientRequest& req, ClientResponse* resp, std::string* error) {
  if (!open()) {
    *error = "the server closed the connection";
    return false;
  }
  return Send(req, error) && Receive(req.method == "HEAD", resp, error);
}

bool HttpClient::Send(const ClientRequest& req, std::string* error) {
  if (!open()) {
    *error = "the server closed the connection";
    return false;
  }
  const std::string bytes = SerializeRequest(req, host_, bearer_token_);
  if (!SendAll(bytes, Clock::now() + timeout_, error)) return false;
  if (trace_) {
    TraceBytes(trace_, bearer_token_.empty() ? bytes : SerializeRequest(req, host_, "<redacted>"));
  }
  return true;
}

bool HttpClient::Receive(bool head_request, ClientResponse* resp, std::string* error) {
  if (fd_ < 0) {
    *error = "the connection is closed";
    return false;
  }
  if (!ReadResponse(head_request, Clock::now() + timeout_, resp, error)) return false;
  if (trace_) TraceBytes(trace_, resp->raw);
  return true;
}

bool HttpClient::SendAll(std::string_view bytes, Deadline deadline, std::string* error) {
  while (!bytes.empty() && tls_) {
    const long n = tls_->Write(bytes.data(), bytes.size(), deadline, error);
    if (n < 0) {
      Close();
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int ready = WaitFor(fd_, POLLOUT, deadline);
      if (ready > 0) continue;
      *error = ready == 0 ? "timed out sending the request" : "send: " + ErrnoText(errno);
    } else {
      *error = "send: " + ErrnoText(errno);
    }
    Close();
    return false;
  }
  return true;
}

long HttpClient::ReadSome(Deadline deadline, std::string* error) {
  char chunk[16384];
  if (tls_) {
    const long n = tls_->Read(chunk, sizeof(chunk), deadline, error);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      raw_.append(chunk, static_cast<size_t>(n));
    }
    return n;
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      raw_.append(chunk, static_cast<size_t>(n));
      return n;
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *error = "recv: " + ErrnoText(errno);
      return -1;
    }
    const int ready = WaitFor(fd_, POLLIN, deadline);
    if (ready > 0) continue;
    *error = ready == 0 ? "timed out waiting for the response" : "poll: " + ErrnoText(errno);
    return -1;
  }
}

void HttpClient::Consume(size_t n, const http::Response& parsed, ClientResponse* resp) {
  resp->status = parsed.status;
  resp->reason.assign(parsed.reason);
  resp->headers.clear();
  for (size_t i = 0; i < parsed.num_headers; ++i) {
    resp->headers.emplace_back(parsed.headers[i].name, parsed.headers[i].value);
  }
  resp->body.assign(parsed.body);
  resp->keep_alive = parsed.keep_alive;
  resp->raw.append(raw_, 0, n);
  buf_.erase(0, n);
  raw_.erase(0, n);
  parser_.Reset();
}

bool HttpClient::ReadResponse(bool head_request, Deadline deadline, ClientResponse* resp,
                              std::string* error) {
  resp->raw.clear();
  http::Response parsed;
  for (;;) {
    const std::span<char> data(buf_.data(), buf_.size());
    http::ParseResult r;
    if (!buf_.empty()) r = parser_.Parse(data, head_request, &parsed);
    if (r.kind == http::ParseResult::kNeedMore) {
      const long n = peer_closed_ ? 0 : ReadSome(deadline, error);
      if (n > 0) continue;
      if (n < 0) {
        Close();
        return false;
      }
      peer_closed_ = true;
      if (buf_.empty()) {
        *error = "the server closed the connection without answering";
        return false;
      }
      r = parser_.ParseAtEof(data, head_request, &parsed);
    }
    if (r.kind == http::ParseResult::kError) {
      *error = "invalid response: " + std::string(r.reason);
      Close();
      return false;
    }
    if (r.kind != http::ParseResult::kComplete) continue;
    Consume(r.consumed, parsed, resp);
    if (resp->status / 100 == 1) continue;  // interim answer; the final one follows
    if (!resp->keep_alive) peer_closed_ = true;
    return true;
  }
}

std::string PercentEncodeQueryValue(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

std::string KeyTarget(std::string_view key) {
  std::string encoded;
  http::PercentEncodePath(key, &encoded);
  return "/kv/" + encoded;
}

}  // namespace

ClientRequest GetKeyRequest(std::string_view key) {
  return MakeRequest("GET", KeyTarget(key));
}

ClientRequest DeleteKeyRequest(std::string_view key) {
  return MakeRequest("DELETE", KeyTarget(key));
}

ClientRequest PutKeyRequest(std::string_view key, std::string_view value) {
  return MakeRequest("PUT", KeyTarget(key), value, "application/octet-stream");
}

ClientRequest PairRequest(std::string_view method, std::string_view target, std::string_view pair) {
  return MakeRequest(method, target, pair, "text/plain");
}

ClientRequest ListRequest(const ListOptions& opts) {
  ClientRequest req = MakeRequest("GET", "/");
  char sep = '?';
  auto add = [&](std::string_view name, std::string_view value) {
    req.target.push_back(sep);
    req.target.append(name).append("=").append(PercentEncodeQueryValue(value));
    sep = '&';
  };
  if (opts.prefix) add("prefix", *opts.prefix);
  if (opts.after) add("after", *opts.after);
  if (opts.limit) add("limit", std::to_string(*opts.limit));
  if (opts.json) req.headers.emplace_back("Accept", "application/json");
  return req;
}

std::string_view FirstLine(std::string_view body) {
  std::string_view line = body.substr(0, body.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace httpkv::client
