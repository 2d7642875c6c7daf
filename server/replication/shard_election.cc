#include "server/replication/shard_election.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace httpkv::server::replication {
namespace {

// A primary that still lacks K named standbys looks again this often (no etcd call unless
// the set changes), so the first writes of a term do not wait a whole loop.
constexpr std::chrono::milliseconds kNamingInterval{50};

bool ParseU64(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

struct MemberPosition {
  uint64_t term = 0;
  uint64_t seq = 0;
};

// A member key's "ADDR LAST_SEQ TERM".
bool ParseMemberValue(std::string_view v, MemberPosition* out) {
  const size_t a = v.find(' ');
  if (a == std::string_view::npos) return false;
  v.remove_prefix(a + 1);
  const size_t b = v.find(' ');
  if (b == std::string_view::npos) return false;
  return ParseU64(v.substr(0, b), &out->seq) && ParseU64(v.substr(b + 1), &out->term);
}

// "NODE ADDR" of the leader key.
std::pair<std::string, std::string> SplitPair(std::string_view v) {
  const size_t sp = v.find(' ');
  if (sp == std::string_view::npos) return {std::string(v), ""};
  return {std::string(v.substr(0, sp)), std::string(v.substr(sp + 1))};
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::vector<std::string> SplitNames(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    const size_t comma = v.find(',');
    if (comma != 0) out.emplace_back(v.substr(0, comma));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

ShardElection::ShardElection(const ReplicationOptions& opts, storage::LogStore* store,
                             RoleState* role, ReplicaSet* replicas, ElectionHooks hooks)
    : opts_(opts),
      store_(store),
      role_(role),
      replicas_(replicas),
      hooks_(std::move(hooks)),
      etcd_(opts.etcd_endpoints,
            opts.retry_timeout / std::max<size_t>(1, opts.etcd_endpoints.size())) {
  (void)etcd_.SetSourceAddress(opts_.source_ip);
}

ShardElection::~ShardElection() {
  Stop();
}

int64_t ShardElection::TtlSeconds() const {
  return std::max<int64_t>(1, (opts_.leader_ttl.count() + 999) / 1000);
}

void ShardElection::Start() {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "httpkv-elect");
    Run();
  });
}

void ShardElection::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void ShardElection::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ShardElection::Run() {
  while (true) {
    Step();
    std::unique_lock lock(mu_);
    const bool naming = role_->role() == Role::kPrimary && replicas_->sync() > 0 &&
                        replicas_->named().size() < replicas_->sync();
    const auto wait = naming ? std::min<Clock::duration>(opts_.loop_wait, kNamingInterval)
                             : Clock::duration(opts_.loop_wait);
    cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    woken_ = false;
    if (stop_) break;
  }
  if (role_->role() == Role::kPrimary) {  // hand over at once instead of after the TTL
    role_->BecomeElecting();
    bool deleted = false;
    (void)etcd_.DeleteIfCreateRevision(Key("leader"), static_cast<int64_t>(role_->term()),
                                       &deleted);
    if (leader_lease_ != 0) (void)etcd_.LeaseRevoke(leader_lease_);
    spdlog::info("replication: gave up leadership of shard {} on shutdown", opts_.shard);
  }
  if (member_lease_ != 0) (void)etcd_.LeaseRevoke(member_lease_);
}

void ShardElection::Step() {
  const Clock::time_point now = Clock::now();
  if (now >= next_publish_) PublishMember();
  if (role_->role() == Role::kPrimary) {
    StepPrimary(now);
  } else {
    StepFollower();
  }
}

void ShardElection::StepPrimary(Clock::time_point now) {
  if (now >= next_renew_) {
    const Clock::time_point sent = Clock::now();
    int64_t ttl = 0;
    etcd::EtcdError err = etcd_.LeaseKeepAlive(leader_lease_, &ttl);
    if (err.ok()) {
      role_->ExtendLease(sent + opts_.leader_ttl);
      next_renew_ = sent + opts_.loop_wait;
      std::optional<etcd::KeyValue> kv;
      err = etcd_.Get(Key("leader"), &kv);
      if (err.ok() && (!kv || kv->create_revision != static_cast<int64_t>(role_->term()))) {
        return StepDown("the leader key is no longer ours");
      }
    } else if (err.kind == etcd::EtcdError::kNotFound) {
      return StepDown("the leader lease expired in etcd");
    }
    if (!err.ok()) {
      counters_.etcd_errors++;
      spdlog::warn("replication: renewing the lease: {}", err.message);
    }
  }
  if (Clock::now() >= role_->LeaseDeadline()) return StepDown("lease not renewed in time");
  NameStandbys();
}

void ShardElection::StepDown(const char* why) {
  role_->BecomeElecting();
  store_->SetExpiryWrites(false);
  counters_.step_downs++;
  leader_lease_ = 0;
  spdlog::warn("replication: stepped down as primary of shard {} (term {}): {}", opts_.shard,
               role_->term(), why);
  if (hooks_.after_step_down) hooks_.after_step_down();
}

void ShardElection::NameStandbys() {
  if (replicas_->sync() == 0) return;
  const auto want = replicas_->WantedStandbys(Clock::now(), opts_.leader_ttl);
  if (want == replicas_->named() || want.empty()) return;
  replicas_->BeginNaming(want);
  const etcd::EtcdError err = etcd_.Put(Key("sync"), JoinNames(want));
  replicas_->FinishNaming(err.ok());
  if (!err.ok()) {
    counters_.etcd_errors++;
    return;
  }
  counters_.standby_changes++;
  spdlog::info("replication: synchronous standbys of shard {}: {}", opts_.shard, JoinNames(want));
}

void ShardElection::PublishMember() {
  next_publish_ = Clock::now() + opts_.loop_wait;
  int64_t ttl = 0;
  etcd::EtcdError err;
  if (member_lease_ != 0) err = etcd_.LeaseKeepAlive(member_lease_, &ttl);
  if (member_lease_ == 0 || err.kind == etcd::EtcdError::kNotFound) {
    err = etcd_.LeaseGrant(TtlSeconds(), &member_lease_);
  }
  if (err.ok()) {
    err = etcd_.Put(
        Key("members/" + opts_.node_name),
        fmt::format("{} {} {}", opts_.advertise, store_->LastSeq(), store_->CurrentTerm()),
        member_lease_);
  }
  if (!err.ok()) counters_.etcd_errors++;
}

void ShardElection::StepFollower() {
  std::optional<etcd::KeyValue> kv;
  const etcd::EtcdError err = etcd_.Get(Key("leader"), &kv);
  if (!err.ok()) {  // etcd unreachable: keep following whom we followed; reads go on
    counters_.etcd_errors++;
    return;
  }
  if (kv) {
    auto [node, addr] = SplitPair(kv->value);
    if (node == opts_.node_name) {
      // Our own key from before a restart, on a lease we no longer hold: wait it out.
      if (role_->role() != Role::kElecting) role_->BecomeElecting();
      return;
    }
    if (role_->role() != Role::kReplica || role_->primary() != addr) {
      spdlog::info("replication: following {} ({}) in shard {}, term {}", node, addr, opts_.shard,
                   kv->create_revision);
      role_->BecomeReplica(addr);
    }
    return;
  }
  if (role_->role() == Role::kReplica) role_->BecomeElecting();
  if (Eligible()) TryLead();
}

// Raft's "up to date" rule over the members etcd knows: the one whose last record has the
// newest term, then the longest log, then the lowest name. With --sync K >= 1 only the
// standbys the last primary named compete (each holds every acknowledged write; others may
// not), so an unnamed member that got further — e.g. a former primary with an unacknowledged
// tail — neither leads nor blocks them.
bool ShardElection::Eligible() {
  if (hooks_.may_lead && !hooks_.may_lead()) return false;
  std::vector<std::string> named;
  if (replicas_->sync() > 0) {
    std::optional<etcd::KeyValue> sync;
    if (!etcd_.Get(Key("sync"), &sync).ok()) return false;
    if (sync) named = SplitNames(sync->value);
    if (!named.empty() && std::find(named.begin(), named.end(), opts_.node_name) == named.end()) {
      return false;
    }
  }
  const MemberPosition mine{store_->CurrentTerm(), store_->LastSeq()};
  std::vector<etcd::KeyValue> members;
  if (!etcd_.GetPrefix(Key("members/"), &members).ok()) return false;
  for (const etcd::KeyValue& m : members) {
    const std::string name = m.key.substr(Key("members/").size());
    if (name == opts_.node_name) continue;
    if (!named.empty() && std::find(named.begin(), named.end(), name) == named.end()) continue;
    MemberPosition theirs;
    if (!ParseMemberValue(m.value, &theirs)) continue;
    if (theirs.term != mine.term ? theirs.term > mine.term
        : theirs.seq != mine.seq ? theirs.seq > mine.seq
                                 : name < opts_.node_name) {
      return false;
    }
  }
  return true;
}

void ShardElection::TryLead() {
  const Clock::time_point sent = Clock::now();
  int64_t lease = 0;
  if (!etcd_.LeaseGrant(TtlSeconds(), &lease).ok()) return;
  bool created = false;
  etcd::KeyValue cur;
  const etcd::EtcdError err = etcd_.CreateIfAbsent(
      Key("leader"), opts_.node_name + " " + opts_.advertise, lease, &created, &cur);
  if (!err.ok() || !created) {
    (void)etcd_.LeaseRevoke(lease);
    return;
  }
  const auto term = static_cast<uint64_t>(cur.create_revision);
  if (hooks_.before_promote) hooks_.before_promote();
  uint64_t seq = 0;
  if (storage::Status s = store_->BeginTerm(term, &seq); !s.ok()) {
    spdlog::error("replication: cannot start term {}: {}", term, s.ToString());
    bool deleted = false;
    (void)etcd_.DeleteIfCreateRevision(Key("leader"), cur.create_revision, &deleted);
    (void)etcd_.LeaseRevoke(lease);
    return;
  }
  std::vector<std::string> named;
  std::optional<etcd::KeyValue> sync;
  if (replicas_->sync() > 0 && etcd_.Get(Key("sync"), &sync).ok() && sync) {
    named = SplitNames(sync->value);
    named.erase(std::remove(named.begin(), named.end(), opts_.node_name), named.end());
  }
  replicas_->Reset(named, seq);
  leader_lease_ = lease;
  next_renew_ = sent + opts_.loop_wait;
  store_->SetExpiryWrites(true);
  role_->BecomePrimary(term, sent + opts_.leader_ttl, opts_.advertise);
  counters_.elections_won++;
  spdlog::info("replication: primary of shard {} in term {} from seq {}", opts_.shard, term, seq);
}

}  // namespace httpkv::server::replication
