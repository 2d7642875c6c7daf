// GET /kv/?watch=1[&prefix=P][&since=SEQ]: the change feed's request side. It validates the
// query, picks the starting point (Last-Event-ID, else since, else now) and answers 410 when
// compaction dropped history after it; the worker hands the connection to FeedWatchers
// (server/feed/feed_watchers.h).
#include <fmt/format.h>

#include <charconv>
#include <iterator>

#include "http/percent.h"
#include "server/routes/kv_routes.h"

namespace httpkv::server {
namespace {

// Calls fn(name, raw value) for each name=value pair of a query string.
template <typename Fn>
void ForEachParam(std::string_view raw, Fn&& fn) {
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    const size_t eq = pair.find('=');
    fn(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }
}

bool ParseSeq(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

bool IsWatchQuery(std::string_view query) {
  bool watch = false;
  ForEachParam(query, [&](std::string_view name, std::string_view value) {
    if (name == "watch") watch = value != "0" && value != "false";
  });
  return watch;
}

Reply KvRoutes::Watch(const http::Request& req) {
  std::string_view since_raw, bad;
  watch_.prefix.clear();
  ForEachParam(req.query, [&](std::string_view name, std::string_view value) {
    if (name == "since") since_raw = value;
    if (name == "prefix" && http::PercentDecode(value, &watch_.prefix).failed()) {
      bad = "invalid percent-escape in prefix";
    }
  });
  if (!bad.empty()) return Text(400, "invalid percent-escape in prefix\n");
  // An EventSource reconnecting sends the id of the last event it saw: that wins.
  if (std::string_view last_id = req.Find("Last-Event-ID"); !last_id.empty()) since_raw = last_id;
  watch_.cursor = storage::FeedCursor{};
  if (since_raw.empty()) {
    store_->TailCursor(&watch_.cursor);  // since = now
  } else {
    uint64_t since = 0;
    if (!ParseSeq(since_raw, &since)) {
      return Text(400, "since (or Last-Event-ID) must be a non-negative integer\n");
    }
    const uint64_t horizon = store_->SeqHorizon();
    if (since < horizon) {
      scratch_.body.clear();
      fmt::format_to(std::back_inserter(scratch_.body),
                     "history before SEQ {} was compacted away: list again (GET / gives X-Seq) "
                     "and watch from there\n",
                     horizon);
      Reply r = Text(410, scratch_.body);
      r.seq_horizon = static_cast<int64_t>(horizon);
      r.x_seq = static_cast<int64_t>(store_->LastSeq());
      return r;
    }
    watch_.cursor.last_seq = since;
  }
  Reply r;
  r.content_type = "text/event-stream";
  r.event_stream = true;
  r.x_seq = static_cast<int64_t>(watch_.cursor.last_seq);
  r.seq_horizon = static_cast<int64_t>(store_->SeqHorizon());
  return r;
}

}  // namespace httpkv::server
