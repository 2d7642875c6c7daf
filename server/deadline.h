// Connection deadlines: which timeout applies to a connection right now, and what to
// do when it passed. A pure function of the connection's progress and the clock, so
// it is tested with made-up time points.
//
// Each connection keeps exactly one timer in its loop's heap. Activity never touches
// the heap: it only moves the timestamps below. When the timer fires, Check() either
// finds a later deadline (the timer is re-armed there: at most one heap operation per
// timeout period per connection) or says how to end the connection. So there is no
// scan over all connections and no per-request timer cost.
#pragma once

#include <chrono>

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

}  // namespace httpkv::server
