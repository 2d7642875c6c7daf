#include "http/http_date.h"

#include <time.h>

namespace httpkv::http {
namespace {

void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string_view FormatHttpDate(time_t t, char (&buf)[29]) {
  static constexpr char kDays[] = "SunMonTueWedThuFriSat";
  static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  struct tm tm;
  gmtime_r(&t, &tm);
  char* p = buf;
  for (int i = 0; i < 3; ++i) *p++ = kDays[tm.tm_wday * 3 + i];
  *p++ = ',';
  *p++ = ' ';
  Put2(p, tm.tm_mday);
  p += 2;
  *p++ = ' ';
  for (int i = 0; i < 3; ++i) *p++ = kMonths[tm.tm_mon * 3 + i];
  *p++ = ' ';
  const int year = tm.tm_year + 1900;
  Put2(p, year / 100);
  Put2(p + 2, year % 100);
  p += 4;
  *p++ = ' ';
  Put2(p, tm.tm_hour);
  p[2] = ':';
  Put2(p + 3, tm.tm_min);
  p[5] = ':';
  Put2(p + 6, tm.tm_sec);
  p += 8;
  *p++ = ' ';
  *p++ = 'G';
  *p++ = 'M';
  *p++ = 'T';
  return {buf, 29};
}

std::string_view HttpDate() {
  thread_local time_t cached_sec = -1;
  thread_local char buf[29];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (ts.tv_sec != cached_sec) {
    FormatHttpDate(ts.tv_sec, buf);
    cached_sec = ts.tv_sec;
  }
  return {buf, sizeof(buf)};
}

}  // namespace httpkv::http
