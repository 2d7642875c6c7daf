#include "http/request_parser.h"

#include <algorithm>
#include <cstring>

#include "http/host.h"

namespace httpkv::http {
namespace {

ParseResult Bad(std::string_view reason) {
  return ParseResult::Error(400, reason);
}

bool IsTargetByte(char c) {
  return c > 0x20 && c < 0x7f;
}  // no CTL, SP, DEL, non-ASCII

// Splits the request-target into path and query according to its form.
ParseResult SplitTarget(Request* r) {
  std::string_view t = r->target;
  std::string_view path = t;
  if (t[0] == '/') {
    // origin-form
  } else if (t == "*") {
    if (r->method != Method::kOptions) return Bad("asterisk-form target is only valid for OPTIONS");
  } else if (size_t sep = t.find("://"); sep != std::string_view::npos && sep > 0 &&
                                         IsTchar(static_cast<unsigned char>(t[0]))) {
    // absolute-form: scheme "://" authority [path-abempty] ["?" query]
    std::string_view rest = t.substr(sep + 3);
    size_t path_at = rest.find_first_of("/?");
    if (path_at == 0 || rest.empty()) return Bad("absolute-form target without authority");
    r->target_has_authority = true;
    path = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
  } else if (r->method_name == "CONNECT") {
    r->path = {};
    r->query = {};
    r->target_has_authority = true;
    return ParseResult::Complete(t.size());  // authority-form; the server answers 501 anyway
  } else {
    return Bad("invalid request target");
  }
  const size_t q = path.find('?');
  r->query = q == std::string_view::npos ? std::string_view() : path.substr(q + 1);
  r->path = path.substr(0, q);
  if (r->path.empty()) r->path = "/";  // "http://h" or "http://h?q" means "/"
  return ParseResult::Complete(t.size());
}

ParseResult ParseRequestLine(std::string_view line, Request* r) {
  size_t i = 0;
  while (i < line.size() && IsTchar(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') {
    return Bad(i == 0 ? "invalid method" : "malformed request line");
  }
  r->method_name = line.substr(0, i);
  r->method = MethodFromName(r->method_name);
  const size_t sp = line.find(' ', i + 1);
  if (sp == std::string_view::npos || sp == i + 1) return Bad("malformed request line");
  r->target = line.substr(i + 1, sp - i - 1);
  for (char c : r->target) {
    if (!IsTargetByte(c)) return Bad("invalid character in request target");
  }
  std::string_view v = line.substr(sp + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) {
    return Bad("invalid HTTP version");
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
    return ParseResult::Error(505, "HTTP version not supported");
  }
  r->minor_version = v[7] - '0';
  return SplitTarget(r);
}

// Header semantics gathered in one pass over the fields.
struct Semantics {
  int host_count = 0;
  bool close = false;
  bool keep_alive = false;
  std::string_view content_length;  // first value
  bool conflicting_length = false;
  TransferEncoding te;
};

void Collect(const Header& h, Request* r, Semantics* s) {
  switch (h.name.size()) {
    case 4:
      if (EqualsIgnoreCase(h.name, "host")) {
        ++s->host_count;
        r->host = h.value;
      }
      break;
    case 6:
      if (EqualsIgnoreCase(h.name, "expect") && EqualsIgnoreCase(h.value, "100-continue")) {
        r->expect_continue = true;
      }
      break;
    case 10:
      if (EqualsIgnoreCase(h.name, "connection")) {
        s->close = s->close || TokenListContains(h.value, "close");
        s->keep_alive = s->keep_alive || TokenListContains(h.value, "keep-alive");
      }
      break;
    case 14:
      if (EqualsIgnoreCase(h.name, "content-length")) {
        // Identical repeats are harmless; different ones are ambiguous framing.
        if (r->has_content_length && h.value != s->content_length) s->conflicting_length = true;
        if (!r->has_content_length) s->content_length = h.value;
        r->has_content_length = true;
      }
      break;
    case 17:
      if (EqualsIgnoreCase(h.name, "transfer-encoding")) s->te.Add(h.value);
      break;
    default:
      break;
  }
}

// RFC 9112 3.2: exactly one Host in HTTP/1.1, and a valid value. The one invalid shape
// with a meaning, "uri-host/path" on target "/", is reported in host_path (see
// request_parser.h) instead of failing.
ParseResult CheckHost(Request* r, const Semantics& s) {
  if (s.host_count > 1) return Bad("multiple Host fields");
  if (s.host_count == 0) {
    return r->minor_version == 1 ? Bad("missing Host") : ParseResult::Complete(0);
  }
  if (r->host.empty()) {
    // RFC 9112 3.2: empty only when the target has no authority component.
    return r->target_has_authority ? Bad("empty Host with an authority in the target")
                                   : ParseResult::Complete(0);
  }
  HostParts parts;
  const ParseResult valid = ParseHost(r->host, &parts);
  if (!valid.failed()) return valid;
  const size_t slash = SplitHostPath(r->host);
  if (slash == std::string_view::npos || r->target != "/") return valid;
  r->host_path = r->host.substr(slash);
  return ParseResult::Complete(r->host.size());
}

ParseResult CheckFraming(const Limits& limits, Request* r, const Semantics& s, uint64_t* length) {
  if (s.te.present) {
    if (r->minor_version == 0) return Bad("Transfer-Encoding in HTTP/1.0");
    if (r->has_content_length) return Bad("both Content-Length and Transfer-Encoding");
    const ParseResult verdict = s.te.Verdict();
    r->chunked = !verdict.failed();
    return verdict;
  }
  if (!r->has_content_length) return ParseResult::Complete(0);
  if (s.conflicting_length) return Bad("conflicting Content-Length values");
  if (ParseResult cl = ParseContentLength(s.content_length, length); cl.failed()) return cl;
  if (*length > limits.max_body) return ParseResult::Error(413, "body too large");
  return ParseResult::Complete(0);
}

}  // namespace

ParseResult ParseRequestHead(std::string_view data, size_t start, size_t head_end,
                             const Limits& limits, Request* out, uint64_t* content_length) {
  const char* base = data.data();
  const size_t lf =
      static_cast<const char*>(std::memchr(base + start, '\n', head_end - start)) - base;
  out->host = out->host_path = out->body = {};
  out->keep_alive = out->expect_continue = out->has_content_length = out->chunked = false;
  out->target_has_authority = false;
  if (ParseResult r = ParseRequestLine(data.substr(start, lf - 1 - start), out); r.failed()) {
    return r;
  }
  std::string_view fields = data.substr(lf + 1, head_end - 2 - (lf + 1));
  if (ParseResult r =
          ParseFields(fields, out->headers.data(), limits.max_headers, &out->num_headers);
      r.failed()) {
    return r;
  }
  Semantics s;
  for (size_t i = 0; i < out->num_headers; ++i) Collect(out->headers[i], out, &s);
  if (out->minor_version == 0) {
    out->expect_continue = false;  // Expect is an HTTP/1.1 feature (RFC 9110 10.1.1)
    out->keep_alive = s.keep_alive && !s.close;
  } else {
    out->keep_alive = !s.close;
  }
  *content_length = 0;
  if (ParseResult r = CheckHost(out, s); r.failed()) return r;
  if (ParseResult r = CheckFraming(limits, out, s, content_length); r.failed()) return r;
  return ParseResult::Complete(head_end - start);
}

ParseResult RequestParser::Parse(std::span<char> data, Request* out) {
  const std::string_view d(data.data(), data.size());
  if (phase_ == kHead) {
    const ParseResult r = scanner_.Scan(d, *limits_, 414);
    if (r.kind != ParseResult::kComplete) return r;
    start_ = static_cast<uint16_t>(scanner_.start);
    head_end_ = static_cast<uint32_t>(r.consumed);
    return OnHeadComplete(data, out);
  }
  if (phase_ == kLengthBody) {
    if (data.size() - head_end_ < content_length_) return ParseResult::NeedMore();
    const size_t end = head_end_ + content_length_;
    return Complete(data, false, end, end, out);
  }
  return DecodeChunked(data, false, out);
}

ParseResult RequestParser::DecodeChunked(std::span<char> data, bool tokenized, Request* out) {
  const ParseResult r = chunked_.Decode(data, *limits_, head_end_);
  if (r.kind != ParseResult::kComplete) return r;
  return Complete(data, tokenized, chunked_.dst, chunked_.src, out);
}

ParseResult RequestParser::OnHeadComplete(std::span<char> data, Request* out) {
  const std::string_view d(data.data(), data.size());
  uint64_t length = 0;
  if (ParseResult r = ParseRequestHead(d, start_, head_end_, *limits_, out, &length); r.failed()) {
    return r;
  }
  if (out->chunked) {
    phase_ = kChunkedBody;
    chunked_.Start(head_end_);
    return DecodeChunked(data, true, out);  // *out stays filled on kNeedMore
  }
  if (length == 0) return Complete(data, true, head_end_, head_end_, out);
  phase_ = kLengthBody;
  content_length_ = length;
  if (data.size() - head_end_ < length) return ParseResult::NeedMore();
  return Complete(data, true, head_end_ + length, head_end_ + length, out);
}

ParseResult RequestParser::Complete(std::span<char> data, bool tokenized, size_t body_end,
                                    size_t end, Request* out) {
  if (!tokenized) {
    // The head was validated in an earlier call; *out may since hold another request.
    uint64_t length = 0;
    ParseRequestHead(std::string_view(data.data(), data.size()), start_, head_end_, *limits_, out,
                     &length);
  }
  out->body = std::string_view(data.data() + head_end_, body_end - head_end_);
  return ParseResult::Complete(end);
}

}  // namespace httpkv::http
