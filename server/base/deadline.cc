#include "server/base/deadline.h"

#include <algorithm>

namespace httpkv::server {

DeadlineVerdict CheckDeadline(const ConnProgress& p, const Timeouts& t, Clock::time_point now) {
  DeadlineVerdict v;
  DeadlineAction on_expiry;
  if (p.output_pending) {
    // A response is waiting on the peer: only its reading counts as progress.
    v.at = p.last_write + t.write;
    on_expiry = DeadlineAction::kCloseWriter;
  } else if (p.reading_head) {
    // Fixed from the first byte: trickling bytes (slowloris) does not extend it.
    v.at = p.request_start + t.header;
    on_expiry = DeadlineAction::kRequestTimeout;
  } else if (p.reading_body) {
    v.at = p.last_read + t.body;
    on_expiry = DeadlineAction::kRequestTimeout;
  } else {
    v.at = std::max(p.last_read, p.last_write) + t.idle;
    on_expiry = DeadlineAction::kCloseIdle;
  }
  if (now >= v.at) v.action = on_expiry;
  return v;
}

std::optional<Clock::time_point> EarlierDeadline(const ConnProgress& p, const Timeouts& t,
                                                 Clock::time_point armed_at) {
  if (!p.reading_head && !p.reading_body) return std::nullopt;  // idle only moves later
  ConnProgress reading = p;
  reading.output_pending = false;
  const Clock::time_point at = CheckDeadline(reading, t, armed_at).at;
  if (at >= armed_at) return std::nullopt;
  return at;
}

}  // namespace httpkv::server
