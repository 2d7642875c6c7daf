#include "server/access_log.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>
#include <mutex>

namespace httpkv::server {

class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) { file_.open(path, false); }
  void Reopen() {
    std::lock_guard<std::mutex> lock(mutex_);
    file_.reopen(false);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    line.append(msg.payload.begin(), msg.payload.end());
    line.push_back('\n');
    file_.write(line);
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::details::file_helper file_;
};

namespace {

void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// "25/Nov/2026:14:36:17 +0000", recomputed once per second per thread. Formatted by
// hand: strftime consults the locale and the time zone (tzset may allocate).
std::string_view LogTime(int64_t wall_seconds) {
  static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  thread_local time_t cached_sec = -1;
  thread_local char buf[26];
  const time_t now = static_cast<time_t>(wall_seconds);
  if (now != cached_sec) {
    tm t;
    ::gmtime_r(&now, &t);
    Put2(buf, t.tm_mday);
    buf[2] = '/';
    for (int i = 0; i < 3; ++i) buf[3 + i] = kMonths[t.tm_mon * 3 + i];
    buf[6] = '/';
    const int year = t.tm_year + 1900;
    Put2(buf + 7, year / 100);
    Put2(buf + 9, year % 100);
    buf[11] = ':';
    Put2(buf + 12, t.tm_hour);
    buf[14] = ':';
    Put2(buf + 15, t.tm_min);
    buf[17] = ':';
    Put2(buf + 18, t.tm_sec);
    std::memcpy(buf + 20, " +0000", 6);  // NOLINT(bugprone-not-null-terminated-result): fixed width
    cached_sec = now;
  }
  return {buf, sizeof buf};
}

std::string_view OrDash(std::string_view s) {
  return s.empty() ? "-" : s;
}

}  // namespace

std::string_view AccessLog::FormatPeer(int fd, char (&buf)[kPeerChars]) {
  const size_t size = sizeof buf;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "-";
  const void* addr =
      ss.ss_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&ss)->sin_addr);
  if (::inet_ntop(ss.ss_family, addr, buf, static_cast<socklen_t>(size)) == nullptr) return "-";
  return buf;
}

std::unique_ptr<AccessLog> AccessLog::Open(const std::string& path, std::string* error) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  try {
    log->sink_ = std::make_shared<ReopenableFileSink>(path);
    // A dedicated pool: access logging must never share a queue with other loggers.
    auto pool = std::make_shared<spdlog::details::thread_pool>(16384, 1);
    log->logger_ = std::make_shared<spdlog::async_logger>(
        "access", log->sink_, pool, spdlog::async_overflow_policy::overrun_oldest);
    log->pool_ = pool;
  } catch (const spdlog::spdlog_ex& e) {
    *error = "cannot open access log " + path + ": " + e.what();
    return nullptr;
  }
  return log;
}

AccessLog::~AccessLog() {
  // Drain and join the writer thread before the sink goes away: spdlog's flush() only
  // queues a request, and the pool's destructor is what waits for the queue to empty.
  // The pool goes first: joining its thread orders every logger reference that thread
  // dropped before the last one, which this thread then drops (TSan sees the order; the
  // uninstrumented libspdlog's own refcounting does not show it).
  if (logger_) logger_->flush();
  pool_.reset();
  logger_.reset();
}

void AccessLog::Record(std::string_view peer, int64_t wall_seconds, const http::Request& req,
                       int status, uint64_t body_bytes, std::chrono::nanoseconds latency,
                       std::string_view user) {
  fmt::memory_buffer line;  // inline storage: no allocation for ordinary lines
  fmt::format_to(std::back_inserter(line),
                 "{} - {} [{}] \"{} {} HTTP/1.{}\" {} {} \"{}\" \"{}\" {:.6f}", peer, OrDash(user),
                 LogTime(wall_seconds), req.method_name, req.target, req.minor_version, status,
                 body_bytes, OrDash(req.Find("Referer")), OrDash(req.Find("User-Agent")),
                 static_cast<double>(latency.count()) / 1e9);
  logger_->info(std::string_view(line.data(), line.size()));
}

void AccessLog::Reopen() {
  logger_->flush();
  sink_->Reopen();
}

}  // namespace httpkv::server
