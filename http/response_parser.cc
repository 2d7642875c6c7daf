#include "http/response_parser.h"

#include <cstring>

namespace httpkv::http {
namespace {

enum class Framing : uint8_t { kNone, kLength, kChunked, kUntilClose };

// Every response error is 502 (invalid upstream response), whatever the step said.
ParseResult Invalid(std::string_view reason) {
  return ParseResult::Error(502, reason);
}
ParseResult Invalid(const ParseResult& step) {
  return Invalid(step.reason);
}

ParseResult ParseStatusLine(std::string_view line, Response* r) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !digit(line[5]) || line[6] != '.' ||
      !digit(line[7]) || line[8] != ' ') {
    return Invalid("malformed status line");
  }
  if (line[5] != '1') return Invalid("unsupported HTTP version");
  if (!digit(line[9]) || !digit(line[10]) || !digit(line[11]) || line[9] < '1' || line[9] > '5') {
    return Invalid("invalid status code");
  }
  if (line.size() > 12 && line[12] != ' ') return Invalid("malformed status line");
  r->minor_version = line[7] - '0';
  r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  r->reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (char c : r->reason) {
    if (!IsFieldByte(static_cast<unsigned char>(c))) return Invalid("invalid reason phrase");
  }
  return ParseResult::Complete(line.size());
}

// Tokenizes [start, head_end) and decides the framing: kComplete (the head's bytes) or 502.
ParseResult ParseHead(std::string_view d, size_t start, size_t head_end, const Limits& limits,
                      bool head_request, Response* out, Framing* framing, uint64_t* length) {
  const char* base = d.data();
  const size_t lf =
      static_cast<const char*>(std::memchr(base + start, '\n', head_end - start)) - base;
  out->body = {};
  if (ParseResult r = ParseStatusLine(d.substr(start, lf - 1 - start), out); r.failed()) return r;
  if (ParseResult r = ParseFields(d.substr(lf + 1, head_end - 2 - (lf + 1)), out->headers.data(),
                                  limits.max_headers, &out->num_headers);
      r.failed()) {
    return Invalid(r);
  }
  const ParseResult head = ParseResult::Complete(head_end - start);
  bool close = false, keep_alive = false, has_length = false, bad_length = false;
  std::string_view cl;
  TransferEncoding te;
  for (size_t i = 0; i < out->num_headers; ++i) {
    const Header& h = out->headers[i];
    if (EqualsIgnoreCase(h.name, "connection")) {
      close = close || TokenListContains(h.value, "close");
      keep_alive = keep_alive || TokenListContains(h.value, "keep-alive");
    } else if (EqualsIgnoreCase(h.name, "content-length")) {
      bad_length = bad_length || (has_length && h.value != cl);
      if (!has_length) cl = h.value;
      has_length = true;
    } else if (EqualsIgnoreCase(h.name, "transfer-encoding")) {
      te.Add(h.value);
    }
  }
  out->keep_alive = out->minor_version == 1 ? !close : keep_alive && !close;
  *framing = Framing::kNone;
  const int s = out->status;
  if (head_request || s / 100 == 1 || s == 204 || s == 304) return head;
  if (te.present) {
    if (has_length) return Invalid("both Content-Length and Transfer-Encoding");
    const ParseResult verdict = te.Verdict();
    if (!verdict.failed()) {
      *framing = Framing::kChunked;
    } else if (verdict.status == 501 && te.chunked_count == 0) {
      *framing = Framing::kUntilClose;
    } else {
      return Invalid(verdict);
    }
  } else if (has_length) {
    if (bad_length) return Invalid("conflicting Content-Length values");
    if (ParseResult r = ParseContentLength(cl, length); r.failed()) return Invalid(r);
    if (*length > limits.max_body) return Invalid("response body too large");
    *framing = Framing::kLength;
  } else {
    *framing = Framing::kUntilClose;
  }
  if (*framing == Framing::kUntilClose) out->keep_alive = false;
  return head;
}

}  // namespace

const Limits& DefaultResponseLimits() {
  static const Limits limits{.max_body = uint64_t{1} << 30};
  return limits;
}

ParseResult ResponseParser::Parse(std::span<char> data, bool head_request, Response* out) {
  const std::string_view d(data.data(), data.size());
  switch (phase_) {
    case kHead: {
      const ParseResult r = scanner_.Scan(d, *limits_, 502);
      if (r.failed()) return Invalid(r);
      if (r.kind == ParseResult::kNeedMore) return r;
      start_ = static_cast<uint16_t>(scanner_.start);
      head_end_ = static_cast<uint32_t>(r.consumed);
      return OnHeadComplete(data, head_request, out);
    }
    case kLengthBody: {
      if (data.size() - head_end_ < content_length_) return ParseResult::NeedMore();
      const size_t end = head_end_ + content_length_;
      return Complete(data, head_request, false, end, end, out);
    }
    case kChunkedBody:
      return DecodeChunked(data, head_request, false, out);
    case kUntilClose:
      break;
  }
  return ParseResult::NeedMore();
}

ParseResult ResponseParser::ParseAtEof(std::span<char> data, bool head_request, Response* out) {
  ParseResult r = Parse(data, head_request, out);
  if (r.kind != ParseResult::kNeedMore) return r;
  if (phase_ == kUntilClose)
    return Complete(data, head_request, false, data.size(), data.size(), out);
  return Invalid(data.empty() ? "connection closed before response" : "truncated response");
}

ParseResult ResponseParser::OnHeadComplete(std::span<char> data, bool head_request, Response* out) {
  Framing framing;
  uint64_t length = 0;
  if (ParseResult r = ParseHead(std::string_view(data.data(), data.size()), start_, head_end_,
                                *limits_, head_request, out, &framing, &length);
      r.failed()) {
    return r;
  }
  switch (framing) {
    case Framing::kNone:
      return Complete(data, head_request, true, head_end_, head_end_, out);
    case Framing::kLength:
      phase_ = kLengthBody;
      content_length_ = length;
      if (data.size() - head_end_ < length) return ParseResult::NeedMore();
      return Complete(data, head_request, true, head_end_ + length, head_end_ + length, out);
    case Framing::kChunked:
      phase_ = kChunkedBody;
      chunked_.Start(head_end_);
      return DecodeChunked(data, head_request, true, out);
    case Framing::kUntilClose:
      phase_ = kUntilClose;
      break;
  }
  return ParseResult::NeedMore();
}

ParseResult ResponseParser::DecodeChunked(std::span<char> data, bool head_request, bool tokenized,
                                          Response* out) {
  const ParseResult r = chunked_.Decode(data, *limits_, head_end_);
  if (r.failed()) return Invalid(r);
  if (r.kind == ParseResult::kNeedMore) return r;
  return Complete(data, head_request, tokenized, chunked_.dst, chunked_.src, out);
}

ParseResult ResponseParser::Complete(std::span<char> data, bool head_request, bool tokenized,
                                     size_t body_end, size_t end, Response* out) {
  if (!tokenized) {
    Framing framing;
    uint64_t length = 0;
    ParseHead(std::string_view(data.data(), data.size()), start_, head_end_, *limits_, head_request,
              out, &framing, &length);
  }
  out->body = std::string_view(data.data() + head_end_, body_end - head_end_);
  return ParseResult::Complete(end);
}

}  // namespace httpkv::http
