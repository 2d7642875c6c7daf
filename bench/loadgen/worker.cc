#include "bench/loadgen/worker.h"

#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>

#include "bench/loadgen/conn_group.h"
#include "cluster/routes.h"

namespace httpkv::bench {

Spinner::~Spinner() {
  if (fd_ < 0) return;
  loop_->poller().Remove(fd_);
  ::close(fd_);
}

int Spinner::Start(reactor::EventLoop* loop) {
  loop_ = loop;
  fd_ = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);  // count 1, never read: always readable
  if (fd_ < 0) return errno;
  return loop_->poller().Add(fd_, reactor::kReadable, this);
}

Worker::Worker(const Shared& shared, uint32_t first, uint32_t count)
    : shared_(shared),
      first_(first),
      count_(count),
      pacer_(&loop_,
             [this](int64_t now) {
               for (auto& c : conns_) c->SendDue(now);
             }),
      response_(std::make_unique<http::Response>()) {}

Worker::~Worker() {
  if (thread_.joinable()) {
    RequestStop();
    thread_.join();
  }
}

void Worker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::RequestStop() {
  loop_.Post([this] { Stop(); });
}

void Worker::Stop() {
  if (stopping_) return;
  stopping_ = true;
  end_ns_ = NowNs();
  loop_.Quit();
}

void Worker::ConnDone() {
  if (++done_conns_ == count_) Stop();
}

uint64_t Worker::Progress(Histogram* latency) {
  std::lock_guard<std::mutex> lock(progress_mu_);
  if (latency) latency->Merge(progress_latency_);
  return completed_.load(std::memory_order_relaxed);
}

void Worker::Publish() {
  const Histogram all = stats_.AllLatency();  // once a second: allocation is fine
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_latency_ = all;
  completed_.store(stats_.requests(), std::memory_order_relaxed);
}

void Worker::ScheduleTimers() {
  const Plan& plan = shared_.plan;
  const auto after = [](int64_t at_ns) {
    return std::chrono::nanoseconds(std::max<int64_t>(0, at_ns - NowNs()));
  };
  if (plan.mode != Mode::kPreload) {
    if (plan.measure_start_ns > NowNs()) {
      loop_.RunAfter(after(plan.measure_start_ns), [this] { stats_.ResetMeasurements(); });
    }
    loop_.RunAfter(after(plan.end_ns), [this] { Stop(); });
  }
  if (shared_.opt->progress) loop_.RunEvery(std::chrono::milliseconds(250), [this] { Publish(); });
}

void Worker::CreateConns() {
  const Options& opt = *shared_.opt;
  conns_.reserve(count_);
  for (uint32_t i = 0; i < count_; ++i) {
    const uint32_t g = first_ + i;
    conns_.push_back(std::make_unique<ClientConn>(this, g, opt.seed * 0x100000001B3ull + g));
    const uint64_t n = opt.keys, c = static_cast<uint64_t>(opt.connections);
    if (shared_.plan.mode == Mode::kPreload)
      conns_.back()->SetPreloadRange(n * g / c, n * (g + 1) / c);
  }
}

// --cluster: logical connection g is a group of one connection per owner.
void Worker::CreateGroups() {
  const Options& opt = *shared_.opt;
  cluster::Routes& routes = *shared_.cluster->routes;
  const auto owners = static_cast<uint32_t>(routes.map().owners().size());
  std::string error;
  for (uint32_t o = 0; o < owners; ++o)
    owner_addr_.push_back(
        reactor::InetAddress::Parse(routes.AddressOf(o), &error).value_or(reactor::InetAddress{}));
  for (uint32_t i = 0; i < count_; ++i) {
    const uint32_t g = first_ + i;
    std::vector<ClientConn*> members;
    for (uint32_t o = 0; o < owners; ++o) {
      conns_.push_back(
          std::make_unique<ClientConn>(this, g, opt.seed * 0x100000001B3ull + g * 257 + o));
      members.push_back(conns_.back().get());
    }
    groups_.push_back(std::make_unique<ConnGroup>(this, g, members));
    for (uint32_t o = 0; o < owners; ++o) members[o]->JoinGroup(groups_.back().get(), o);
    const uint64_t n = opt.keys, c = static_cast<uint64_t>(opt.connections);
    if (shared_.plan.mode == Mode::kPreload)
      groups_.back()->SetPreloadRange(n * g / c, n * (g + 1) / c);
  }
}

bool Worker::RefreshOwner(uint32_t o, const std::string& primary) {
  cluster::Routes& routes = *shared_.cluster->routes;
  if (!primary.empty()) routes.SetPrimary(o, primary);
  std::string error;
  const std::optional<reactor::InetAddress> a =
      reactor::InetAddress::Parse(primary.empty() ? routes.Refresh(o) : primary, &error);
  if (!a || a->ToString() == owner_addr_[o].ToString()) return false;
  owner_addr_[o] = *a;
  return true;
}

void Worker::Run() {
  // Open-loop deadlines are in nanoseconds: do not let the kernel batch our wake-ups.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  loop_.TakeOwnership();  // built by the main thread; this one sets it up and runs it
  const Options& opt = *shared_.opt;
  if (shared_.cluster != nullptr) {
    CreateGroups();
  } else {
    CreateConns();
  }
  if (shared_.plan.mode == Mode::kOpen && pacer_.Start() == 0) pacer_.WakeAt(shared_.plan.start_ns);
  if (opt.busy_poll) spinner_.Start(&loop_);
  ScheduleTimers();
  for (auto& c : conns_) c->Connect();
  if (count_ == 0) Stop();
  if (!stopping_) loop_.Run();
  if (end_ns_ == 0) end_ns_ = NowNs();
  conns_.clear();
  groups_.clear();
  Publish();
  finished_.store(true, std::memory_order_release);
}

}  // namespace httpkv::bench
