#include "server/replication/log_shipping.h"

#include <charconv>

namespace httpkv::server::replication {
namespace {

bool ParseU64(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool ValidMemberToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

std::string FormatFetchPath(const FetchRequest& req) {
  std::string path = "/replication/log?node=" + req.node + "&addr=" + req.addr +
                     "&after=" + std::to_string(req.after) +
                     "&history=" + storage::FormatTermHistory(req.history);
  if (req.floor != 0) path += "&floor=" + std::to_string(req.floor);
  return path;
}

std::string_view ParseFetchQuery(std::string_view query, FetchRequest* out) {
  *out = FetchRequest{};
  bool have_after = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (name == "node") {
      if (!ValidMemberToken(value)) return "node must be 1-64 of [A-Za-z0-9._:-]";
      out->node = value;
    } else if (name == "addr") {
      if (!ValidMemberToken(value)) return "addr must be HOST:PORT";
      out->addr = value;
    } else if (name == "after") {
      if (!ParseU64(value, &out->after)) return "after must be a seq";
      have_after = true;
    } else if (name == "floor") {
      if (!ParseU64(value, &out->floor)) return "floor must be a seq";
    } else if (name == "history") {
      if (!storage::ParseTermHistory(value, &out->history)) return "history must be TERM:SEQ,...";
    } else {
      return "unknown parameter (node, addr, after, history, floor)";
    }
  }
  if (out->node.empty() || !have_after) return "node and after are required";
  return {};
}

FetchPlan PlanFetch(const storage::LogStore& store, const FetchRequest& req) {
  const uint64_t keep =
      storage::CommonEnd(req.history, req.after, store.term_history(), store.LastSeq());
  if (keep < req.after) return FetchPlan{FetchVerdict::kTruncate, keep};
  const uint64_t horizon = store.SeqHorizon();
  if (horizon > std::max(req.after, req.floor)) return FetchPlan{FetchVerdict::kHorizon, horizon};
  return FetchPlan{FetchVerdict::kRecords, 0};
}

bool ReadShipment(const storage::LogStore& store, const FetchRequest& req,
                  storage::FeedCursor* cursor, std::string* out, uint64_t* log_end) {
  if (cursor->last_seq != req.after) *cursor = storage::FeedCursor{req.after, 0, 0};
  const uint64_t upper = store.LastSeq();
  const storage::FeedProgress p = store.ReadLog(cursor, upper, req.floor, kShipBytes, out);
  switch (p) {
    case storage::FeedProgress::kCaughtUp:
      *log_end = std::max(upper, req.after);
      return true;
    case storage::FeedProgress::kMore:
      *log_end = cursor->last_seq;
      return true;
    case storage::FeedProgress::kHistoryLost:
    case storage::FeedProgress::kCorrupt:
      return false;
  }
  return false;
}

}  // namespace httpkv::server::replication
