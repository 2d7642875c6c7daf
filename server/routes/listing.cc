#include "server/routes/listing.h"

#include <charconv>

#include "http/percent.h"
#include "server/routes/ttl_query.h"

namespace httpkv::server {
namespace {

bool DecodeFormValue(std::string_view raw, std::string* tmp, std::string* out) {
  tmp->assign(raw);
  for (char& c : *tmp) {
    if (c == '+') c = ' ';
  }
  return !http::PercentDecode(*tmp, out).failed();
}

}  // namespace

void AppendJsonEntry(std::string_view key, std::string_view value, uint64_t expires_at_ms,
                     uint64_t now_ms, std::string* out) {
  AppendJsonString(key, out);
  out->push_back(':');
  if (expires_at_ms == 0) {
    AppendJsonString(value, out);
    return;
  }
  out->push_back('[');
  AppendJsonString(value, out);
  out->push_back(',');
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, SecondsLeft(expires_at_ms, now_ms));
  (void)ec;
  out->append(buf, end).push_back(']');
}

std::string_view ParseListingQuery(std::string_view raw, RouteScratch* s, ListingQuery* q) {
  for (std::string& v : s->query) v.clear();
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (name == "ttls") {
      if (value != "1" && value != "0") return "ttls must be 0 or 1";
      q->ttls = value == "1";
      continue;
    }
    int slot = name == "prefix" ? 0 : name == "after" ? 1 : name == "limit" ? 2 : -1;
    if (slot < 0) continue;  // unknown parameters are ignored, as most servers do
    if (!DecodeFormValue(value, &s->body, &s->query[slot]))
      return "invalid percent-escape in query";
  }
  q->prefix = s->query[0];
  q->after = s->query[1];
  const std::string& limit = s->query[2];
  if (!limit.empty()) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (ec != std::errc() || end != limit.data() + limit.size()) {
      return "limit must be a non-negative integer";
    }
    q->limit = n;
  }
  return {};
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void ListingCursor::Reset(const ListingQuery& q) {
  prefix.assign(q.prefix);
  after.assign(q.after);
  remaining = q.limit;
  json = q.json;
  ttls = q.ttls && q.json;
  started = false;
  done = false;
}

storage::Status RenderListingBatch(const storage::LogStore& store, ListingCursor* c,
                                   size_t max_bytes, std::string* out) {
  if (c->json && !c->started) out->push_back('{');
  storage::ScanOptions opts;
  opts.prefix = c->prefix;
  opts.after = c->after;
  opts.limit = c->remaining;
  bool more = false;
  const uint64_t now_ms = c->ttls ? storage::LogStore::NowMs() : 0;
  auto entry = [&](std::string_view key, std::string_view value, uint64_t expires_at_ms) {
    if (out->size() >= max_bytes) {
      more = true;  // this key is emitted by the next batch
      return false;
    }
    if (c->json) {
      if (c->started) out->push_back(',');
      AppendJsonEntry(key, value, c->ttls ? expires_at_ms : 0, now_ms, out);
    } else {
      out->append(key).append(1, ':').append(value).append(1, '\n');
    }
    c->started = true;
    c->after.assign(key);
    --c->remaining;
    return true;
  };
  storage::Status st = store.ScanWithExpiry(opts, entry);
  if (!st.ok()) return st;
  c->started = true;
  if (!more || c->remaining == 0) {
    c->done = true;
    if (c->json) *out += "}\n";
  }
  return st;
}

}  // namespace httpkv::server
