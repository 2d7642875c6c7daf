// Connection deadlines: which timeout applies to a connection right now, and what to
// do when it passed. A pure function of the connection's progress and the clock, so
// it is tested with made-up time points.
//
// Each connection keeps exactly one timer in its loop's heap. Progress that only moves
// a deadline later never touches the heap: it moves the timestamps below, and when the
// timer fires CheckDeadline either finds the later deadline (the timer is re-armed
// there) or says how to end the connection. Progress that makes an EARLIER deadline
// apply -- a request head starts (--header-timeout, fixed from its first byte, shorter
// than --idle-timeout) or a body starts -- moves the timer forward once, at that phase
// change (EarlierDeadline). So there is no scan over all connections, no timer work per
// request that arrives whole, and every deadline fires on time whatever the others are.
#pragma once

#include <chrono>
#include <optional>

#include "reactor/timer_queue.h"

namespace httpkv::server {

using reactor::Clock;

struct Timeouts {
  Clock::duration idle{std::chrono::seconds(60)};    // keep-alive with nothing in flight
  Clock::duration header{std::chrono::seconds(10)};  // first byte of a request -> whole head
  Clock::duration body{std::chrono::seconds(30)};    // between body bytes
  Clock::duration write{std::chrono::seconds(30)};   // between bytes taken by a slow reader
};

struct ConnProgress {
  bool output_pending = false;      // unsent response bytes
  bool reading_head = false;        // part of a request head is buffered
  bool reading_body = false;        // head parsed, body bytes still expected
  Clock::time_point last_read;      // last time bytes arrived
  Clock::time_point last_write;     // last time the peer took response bytes
  Clock::time_point request_start;  // when the first byte of the current head arrived
};

enum class DeadlineAction : uint8_t {
  kWait,            // not yet: re-arm at `at`
  kCloseIdle,       // idle keep-alive expired: close quietly
  kRequestTimeout,  // head or body too slow (slowloris): answer 408 and close
  kCloseWriter,     // peer stopped reading our response: close
};

struct DeadlineVerdict {
  DeadlineAction action = DeadlineAction::kWait;
  Clock::time_point at;  // the deadline that applies
};

DeadlineVerdict CheckDeadline(const ConnProgress& p, const Timeouts& t, Clock::time_point now);

// After new input: if the deadline that now applies to a head or body being read is
// before `armed_at` (when the connection's timer fires), returns it: the timer must be
// moved there. nullopt: the armed timer is early enough (it re-checks when it fires).
// Pending output is not considered here: it is flushed right after the input is
// handled, and a stalled reader is caught when the timer next fires.
std::optional<Clock::time_point> EarlierDeadline(const ConnProgress& p, const Timeouts& t,
                                                 Clock::time_point armed_at);

}  // namespace httpkv::server
