#include "reactor/panic.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace httpkv::reactor {

void Panic(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  // One write: lines from several threads panicking at once do not interleave.
  std::fprintf(stderr, "httpkv: panic: %s\n", line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace httpkv::reactor
