#include "server/connection_cap.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace httpkv::server {

namespace {

constexpr uint64_t kMaxCap = 10'000'000;  // the flag's own upper bound

uint64_t Limit(rlim_t v) {
  return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v);
}

// Descriptors open in this process now (Linux /proc, BSD/macOS /dev/fd).
uint64_t CountOpenFds() {
  for (const char* dir : {"/proc/self/fd", "/dev/fd"}) {
    std::error_code ec;
    uint64_t n = 0;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      ++n;
    }
    if (!ec && n > 0) return n - 1;  // minus the iterator's own descriptor
  }
  return kFdHeadroom;  // unknown: assume as much again as the headroom
}

}  // namespace

uint64_t FdReserve(uint64_t fds_open_now, unsigned threads) {
  return fds_open_now + 3 * uint64_t{threads} + kFdHeadroom;
}

ConnectionCapPlan PlanConnectionCap(uint64_t requested, uint64_t soft, uint64_t hard,
                                    uint64_t reserve) {
  ConnectionCapPlan plan;
  auto fits_in = [reserve](uint64_t limit) {
    return limit > reserve ? std::min(limit - reserve, kMaxCap) : uint64_t{1};
  };
  if (requested == 0) {  // default: what the soft limit allows
    plan.cap = fits_in(soft);
    if (soft <= reserve) {
      plan.warning = "RLIMIT_NOFILE soft limit " + std::to_string(soft) + " leaves no room for " +
                     "connections beside " + std::to_string(reserve) + " reserved descriptors";
    }
    return plan;
  }
  const uint64_t needed = requested > UINT64_MAX - reserve ? UINT64_MAX : requested + reserve;
  if (needed <= soft) {
    plan.cap = requested;
    return plan;
  }
  const uint64_t reachable = std::min(needed, hard);
  plan.raise_soft_to = reachable;
  if (needed <= hard) {
    plan.cap = requested;
    return plan;
  }
  plan.cap = fits_in(reachable);
  plan.warning = "--max-connections " + std::to_string(requested) + " needs " +
                 std::to_string(needed) + " descriptors but RLIMIT_NOFILE allows " +
                 std::to_string(hard) + ": lowered to " + std::to_string(plan.cap);
  return plan;
}

uint64_t SizeConnectionCap(uint64_t requested, unsigned threads) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    const uint64_t cap = requested != 0 ? requested : 1024;
    spdlog::warn("getrlimit(RLIMIT_NOFILE) failed; max-connections={}", cap);
    return cap;
  }
  const uint64_t reserve = FdReserve(CountOpenFds(), threads);
  uint64_t soft = Limit(rl.rlim_cur);
  ConnectionCapPlan plan = PlanConnectionCap(requested, soft, Limit(rl.rlim_max), reserve);
  if (plan.raise_soft_to > soft) {
    rlimit raised = rl;
    raised.rlim_cur = static_cast<rlim_t>(plan.raise_soft_to);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      soft = plan.raise_soft_to;
    } else {  // e.g. a hard limit lowered under us: plan within the soft limit
      plan = PlanConnectionCap(requested, soft, soft, reserve);
    }
  }
  if (!plan.warning.empty()) spdlog::warn("{}", plan.warning);
  spdlog::info("max-connections={} (RLIMIT_NOFILE soft limit {}, {} descriptors reserved)",
               plan.cap, soft, reserve);
  return plan.cap;
}

}  // namespace httpkv::server
