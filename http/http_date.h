// Cached IMF-fixdate for the Date header (RFC 9110 5.6.7).
#pragma once

#include <ctime>
#include <string_view>

namespace httpkv::http {

// "Sun, 06 Nov 1994 08:49:37 GMT" for now. Cached per thread and recomputed only when the
// second changes (CLOCK_REALTIME_COARSE: a vDSO read, no syscall). The view stays valid
// on this thread until the next call.
std::string_view HttpDate();

// Formats `t` (UTC seconds) into buf[29]; returns the 29-byte view.
std::string_view FormatHttpDate(time_t t, char (&buf)[29]);

}  // namespace httpkv::http
