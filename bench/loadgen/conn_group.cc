#include "bench/loadgen/conn_group.h"

#include <charconv>

#include "bench/loadgen/worker.h"

namespace httpkv::bench {

bool ClusterKeys::Build(cluster::Routes* routes, uint64_t keys, ClusterKeys* out,
                        std::string* error) {
  const cluster::ClusterMap& map = routes->map();
  if (map.owners().size() > 256 || keys > kMaxKeys) {
    *error = "--cluster: at most 256 owners and " + std::to_string(kMaxKeys) + " keys";
    return false;
  }
  out->routes = routes;
  out->owner_of.resize(keys);
  char name[32] = "key-";  // the key-N of RequestBuilder
  for (uint64_t k = 0; k < keys; ++k) {
    const auto [end, ec] = std::to_chars(name + 4, name + sizeof name, k);
    const std::string_view key(name, static_cast<size_t>(end - name));
    out->owner_of[k] = static_cast<uint8_t>(map.OwnerIndex(key));
  }
  return true;
}

ConnGroup::ConnGroup(Worker* worker, uint32_t index, std::vector<ClientConn*> members)
    : w_(worker),
      members_(std::move(members)),
      rng_(worker->shared().opt->seed * 0x9E3779B97F4A7C15ull + index),
      depth_(static_cast<size_t>(worker->shared().plan.depth)) {
  const Plan& plan = w_->shared().plan;
  if (plan.mode == Mode::kOpen) {  // the same slots as a plain connection i
    start_ns_ = plan.start_ns + static_cast<int64_t>(index * plan.period_ns);
    step_ns_ = w_->shared().opt->connections * plan.period_ns;
  }
}

size_t ConnGroup::InFlight() const {
  size_t n = 0;
  for (const ClientConn* c : members_) n += c->in_flight();
  return n;
}

void ConnGroup::Push(Op op, uint64_t key, int64_t start_ns, bool retried) {
  members_[w_->shared().cluster->owner_of[key]]->Push(op, key, start_ns, retried);
}

void ConnGroup::Fill(int64_t now) {
  const Shared& sh = w_->shared();
  size_t in_flight = InFlight();
  switch (sh.plan.mode) {
    case Mode::kClosed:
      for (; in_flight < depth_; ++in_flight)
        Push(sh.mix->Pick(rng_), sh.keys->Next(rng_), now, false);
      break;
    case Mode::kOpen:
      for (; in_flight < depth_ && Intended(sent_) <= now; ++in_flight)
        Push(sh.mix->Pick(rng_), sh.keys->Next(rng_), Intended(sent_++), false);
      break;
    case Mode::kPreload:
      for (; in_flight < depth_ && next_key_ < end_key_; ++in_flight)
        Push(Op::kPut, next_key_++, now, false);
      MaybeDone();
      break;
  }
  for (ClientConn* c : members_) c->FlushPending();
  if (sh.plan.mode == Mode::kOpen) w_->WakeAt(NextDue());
}

void ConnGroup::MaybeDone() {
  if (done_ || w_->shared().plan.mode != Mode::kPreload || next_key_ < end_key_ || InFlight() > 0)
    return;
  done_ = true;
  w_->ConnDone();
}

int64_t ConnGroup::NextDue() const {
  return InFlight() >= depth_ ? kNever : Intended(sent_);
}

}  // namespace httpkv::bench
