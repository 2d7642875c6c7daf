// Panic: the reactor's answer to a state it cannot continue from (cf. Redis serverPanic).
//
// A loop that cannot run (no poller, no wake-up channel, a failing epoll_wait, a listener
// that cannot register) must not leave the process half alive: its SO_REUSEPORT socket
// would keep taking a share of new connections that nobody serves. So the process stops:
// one line "httpkv: panic: <what>" on stderr, then abort() (non-zero exit, core dump for
// a post-mortem). Also used for broken invariants such as a loop-thread-only method
// called from another thread (EventLoop::AssertInLoopThread).
#pragma once

namespace httpkv::reactor {

// printf-style; never returns.
[[noreturn]] void Panic(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace httpkv::reactor
