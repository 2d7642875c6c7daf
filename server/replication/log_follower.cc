#include "server/replication/log_follower.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "server/replication/log_shipping.h"

namespace httpkv::server::replication {
namespace {

// How often an idle follower looks at its role again, and waits after a failed request.
constexpr std::chrono::milliseconds kIdlePoll{50};
constexpr std::chrono::milliseconds kRetryWait{100};

uint64_t HeaderU64(const etcd::GatewayAnswer& a, std::string_view name, bool* ok) {
  const std::string_view v = a.Header(name);
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  *ok = !v.empty() && ec == std::errc() && p == v.data() + v.size();
  return out;
}

}  // namespace

LogFollower::LogFollower(const ReplicationOptions& opts, storage::LogStore* store, RoleState* role,
                         std::function<void()> restart, std::function<void()> lost_primary,
                         std::function<void()> applied)
    : opts_(opts),
      store_(store),
      role_(role),
      restart_(std::move(restart)),
      lost_primary_(std::move(lost_primary)),
      applied_(std::move(applied)) {
  (void)conn_.SetSourceAddress(opts_.source_ip);
  conn_.SetBearerToken(opts_.bearer_token);
}

LogFollower::~LogFollower() {
  Stop();
}

void LogFollower::Start() {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "httpkv-follow");
    Run();
  });
}

void LogFollower::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogFollower::Pause() {
  std::unique_lock lock(mu_);
  paused_ = true;
  cv_.wait(lock, [this] { return !applying_; });
}

void LogFollower::Resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

void LogFollower::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void LogFollower::WaitABit() {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, kRetryWait, [this] { return stop_ || woken_; });
  woken_ = false;
}

void LogFollower::Run() {
  while (true) {
    std::string primary;
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
      const bool follow = !paused_ && !restarting_ && role_->role() == Role::kReplica;
      if (follow) primary = role_->primary();
      if (primary.empty()) {
        role_->SetStreaming(false);
        cv_.wait_for(lock, kIdlePoll, [this] { return stop_ || woken_; });
        woken_ = false;
        continue;
      }
    }
    if (!FetchOnce(primary)) WaitABit();
  }
}

bool LogFollower::FetchOnce(const std::string& primary) {
  etcd::Endpoint ep;
  std::string error;
  if (!etcd::Endpoint::Parse("http://" + primary, &ep, &error)) {
    spdlog::error("replication: primary address {}: {}", primary, error);
    return false;
  }
  FetchRequest req;
  req.node = opts_.node_name;
  req.addr = opts_.advertise;
  req.after = store_->LastSeq();
  req.history = store_->term_history();
  req.floor = full_copy_floor_;
  const auto deadline = std::chrono::steady_clock::now() + kFetchHold + opts_.retry_timeout;
  etcd::GatewayAnswer answer;
  counters_.fetches++;
  if (!conn_.Post(ep, FormatFetchPath(req), {}, deadline, &answer, &error)) {
    counters_.errors++;
    role_->SetStreaming(false);
    spdlog::debug("replication: fetch from {}: {}", primary, error);
    if (lost_primary_) lost_primary_();
    return false;
  }
  bool ok = false;
  switch (answer.status) {
    case 200:
      return Apply(answer);
    case 409: {
      const uint64_t keep = HeaderU64(answer, "X-Truncate-To", &ok);
      if (ok) RequestRestart(keep, "its log has a tail the primary does not have");
      return false;
    }
    case 410: {
      const uint64_t horizon = HeaderU64(answer, "X-Seq-Horizon", &ok);
      if (!ok) return false;
      if (store_->LastSeq() == 0 && store_->stats().keys == 0) {
        full_copy_floor_ = horizon;  // empty: copy everything the primary still has
        spdlog::info("replication: full copy from {} (its horizon is {})", primary, horizon);
        return true;
      }
      RequestRestart(0, "it is behind the primary's compaction horizon");
      return false;
    }
    default:
      counters_.errors++;
      role_->SetStreaming(false);
      if (lost_primary_) lost_primary_();
      return false;
  }
}

bool LogFollower::Apply(const etcd::GatewayAnswer& answer) {
  {
    std::lock_guard lock(mu_);
    if (paused_ || role_->role() != Role::kReplica) return false;
    applying_ = true;
  }
  storage::LogStore::ApplyResult r;
  storage::Status s = store_->ApplyReplicated(answer.body, &r);
  bool ok = false;
  const uint64_t end = HeaderU64(answer, "X-Log-End", &ok);
  if (s.ok() && ok) s = store_->AdvanceTo(end);
  // Where each term began, for the log it now holds (a full copy may lack the markers).
  if (storage::TermHistory h;
      s.ok() && storage::ParseTermHistory(answer.Header("X-Term-History"), &h)) {
    s = store_->AdoptTermHistory(h);
  }
  if (s.ok() && store_->fsync_policy() == storage::FsyncPolicy::kAlways && r.records > 0) {
    s = store_->Sync();  // the next fetch acknowledges these: they must be durable
  }
  {
    std::lock_guard lock(mu_);
    applying_ = false;
  }
  cv_.notify_all();
  if (!s.ok()) {
    counters_.errors++;
    spdlog::error("replication: applying {} bytes: {}", answer.body.size(), s.ToString());
    return false;
  }
  if (full_copy_floor_ != 0 && store_->LastSeq() >= full_copy_floor_) full_copy_floor_ = 0;
  counters_.records += r.records;
  counters_.bytes += answer.body.size();
  counters_.primary_commit.store(HeaderU64(answer, "X-Commit", &ok), std::memory_order_release);
  counters_.primary_last.store(HeaderU64(answer, "X-Seq", &ok), std::memory_order_release);
  role_->SetStreaming(true);
  if (applied_) applied_();
  return true;
}

void LogFollower::RequestRestart(uint64_t keep_through, const char* why) {
  spdlog::warn("replication: {}; keeping seqs up to {} and restarting to cut the log", why,
               keep_through);
  if (storage::Status s = store_->ScheduleDiscard(keep_through); !s.ok()) {
    spdlog::error("replication: cannot request the discard: {}", s.ToString());
    return;
  }
  {
    std::lock_guard lock(mu_);
    restarting_ = true;
  }
  restarting_flag_.store(true, std::memory_order_release);
  if (restart_) restart_();
}

}  // namespace httpkv::server::replication
