#include "bench/loadgen/runner.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "bench/loadgen/conn_group.h"
#include "bench/loadgen/key_chooser.h"
#include "bench/loadgen/request_mix.h"
#include "bench/loadgen/worker.h"

namespace httpkv::bench {
namespace {

using WorkerList = std::vector<std::unique_ptr<Worker>>;

WorkerList StartWorkers(const Shared& shared) {
  const Options& opt = *shared.opt;
  const auto c = static_cast<uint32_t>(opt.connections);
  const auto t = static_cast<uint32_t>(std::max(1, std::min(opt.threads, opt.connections)));
  WorkerList workers;
  for (uint32_t i = 0; i < t; ++i) {
    const uint32_t first = c * i / t, last = c * (i + 1) / t;
    workers.push_back(std::make_unique<Worker>(shared, first, last - first));
  }
  for (auto& w : workers) w->Start();
  return workers;
}

bool AllFinished(const WorkerList& workers) {
  for (const auto& w : workers) {
    if (!w->finished()) return false;
  }
  return true;
}

void PrintProgress(std::FILE* log, const WorkerList& workers, double elapsed, double total,
                   uint64_t* last_requests, double* last_elapsed) {
  Histogram latency;
  uint64_t requests = 0;
  for (const auto& w : workers) requests += w->Progress(&latency);
  const double dt = elapsed - *last_elapsed;
  const double rate = dt > 0 ? static_cast<double>(requests - *last_requests) / dt : 0;
  *last_requests = requests;
  *last_elapsed = elapsed;
  std::fprintf(log,
               "\r\x1b[K  %5.0fs elapsed %5.0fs left  %10.0f req/s  p99 %8.1f us  %llu requests",
               elapsed, std::max(0.0, total - elapsed), rate,
               static_cast<double>(latency.Percentile(0.99)) / 1e3,
               static_cast<unsigned long long>(requests));
  std::fflush(log);
}

// Waits for the workers, printing a live line (1/s) when asked; `stop` or the
// deadline (a safety net: a preload against a target that keeps failing) ends them early.
void Supervise(const Options& opt, const WorkerList& workers, int64_t start_ns, double total_s,
               double deadline_s, std::FILE* log, const std::atomic<bool>* stop) {
  uint64_t last_requests = 0;
  double last_elapsed = 0, next_print = 1;
  bool stop_sent = false;
  while (!AllFinished(workers)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double elapsed = static_cast<double>(NowNs() - start_ns) / 1e9;
    if (!stop_sent && ((stop && stop->load()) || elapsed > deadline_s)) {
      for (auto& w : workers) w->RequestStop();
      stop_sent = true;
    }
    if (opt.progress && elapsed >= next_print) {
      PrintProgress(log, workers, elapsed, total_s, &last_requests, &last_elapsed);
      next_print += 1;
    }
  }
  if (opt.progress && next_print > 1) std::fprintf(log, "\r\x1b[K");
  for (auto& w : workers) w->Join();
}

void Preload(const Options& opt, Shared shared, RunResult* result, std::FILE* log,
             const std::atomic<bool>* stop) {
  shared.plan.mode = Mode::kPreload;
  shared.plan.depth = opt.preload_depth;
  Options quiet = opt;
  quiet.progress = false;
  shared.opt = &quiet;
  const int64_t t0 = NowNs();
  WorkerList workers = StartWorkers(shared);
  const double deadline = 60 + static_cast<double>(opt.keys) / 1000;  // >= 1000 keys/s
  Supervise(quiet, workers, t0, 0, deadline, log, stop);
  Stats st;
  for (auto& w : workers) st.Merge(w->final_stats());
  result->preloaded = st.requests();
  result->preload_s = static_cast<double>(NowNs() - t0) / 1e9;
  std::fprintf(log, "preloaded %llu keys in %.2f s", static_cast<unsigned long long>(opt.keys),
               result->preload_s);
  if (st.non_2xx() || st.errors()) {
    std::fprintf(log, " (%llu non-2xx, %llu errors)", static_cast<unsigned long long>(st.non_2xx()),
                 static_cast<unsigned long long>(st.errors()));
  }
  std::fprintf(log, "\n");
}

}  // namespace

int ProbeConnect(const Options& opt, int timeout_ms) {
  const int fd = ::socket(opt.addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = 0;
  if (::connect(fd, opt.addr.sockaddr_ptr(), opt.addr.length()) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      err = ::poll(&p, 1, timeout_ms) == 1 ? 0 : ETIMEDOUT;
      socklen_t len = sizeof err;
      if (err == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }
  ::close(fd);
  return err;
}

namespace {

// --cluster: every owner must answer a connect (as the target must without it), and each
// key's owner is computed once.
bool PrepareCluster(const Options& opt, ClusterKeys* ck, std::string* error) {
  const cluster::Routes& routes = *opt.cluster;
  for (size_t o = 0; o < routes.map().owners().size(); ++o) {
    Options probe = opt;
    probe.target = routes.AddressOf(o);
    const auto addr = reactor::InetAddress::Parse(probe.target, error);
    if (!addr) return false;
    probe.addr = *addr;
    if (const int err = ProbeConnect(probe, 3000); err != 0) {
      *error = "cannot connect to " + routes.map().owners()[o].name + " at " + probe.target + ": " +
               std::strerror(err);
      return false;
    }
  }
  return ClusterKeys::Build(opt.cluster, opt.keys, ck, error);
}

}  // namespace

int RunBenchmark(const Options& opt, RunResult* result, std::FILE* log,
                 const std::atomic<bool>* stop) {
  ClusterKeys cluster_keys;
  if (opt.cluster != nullptr && !PrepareCluster(opt, &cluster_keys, &result->error)) return 1;
  if (const int err = opt.cluster ? 0 : ProbeConnect(opt, 3000); err != 0) {
    result->error = "cannot connect to " + opt.target + ": " + std::strerror(err);
    return 1;
  }
  const RequestMix mix(opt.weights);
  const RequestBuilder builder(opt.target, opt.value_size, opt.path, opt.token);
  const KeyChooser keys(opt.keys, opt.zipf);
  Shared shared{&opt, &builder, &mix, &keys, Plan{}};
  if (opt.cluster != nullptr) shared.cluster = &cluster_keys;
  if (opt.preload && opt.path.empty() && mix.reads_keys()) {
    Preload(opt, shared, result, log, stop);
    if (stop && stop->load()) return 0;
  }
  // --watchers: held open from before the measured phase (since=now) to its end.
  std::unique_ptr<AckTable> acks;
  std::unique_ptr<FeedWatchers> watchers;
  if (opt.watchers > 0) {
    acks = std::make_unique<AckTable>();
    shared.acks = acks.get();
    watchers = std::make_unique<FeedWatchers>(opt, shared.acks);
    if (std::string err; !watchers->Start(&err)) {
      result->error = err;
      return 1;
    }
  }
  Plan& plan = shared.plan;
  const bool open = opt.rate > 0;
  plan.mode = open ? Mode::kOpen : Mode::kClosed;
  plan.depth = opt.pipeline;
  // Open loop: give the connections a moment to be established before the schedule.
  plan.start_ns = NowNs() + (open ? 20'000'000 : 0);
  plan.period_ns = open ? 1e9 / opt.rate : 0;
  plan.measure_start_ns = plan.start_ns + static_cast<int64_t>(opt.warmup_s * 1e9);
  plan.end_ns = plan.measure_start_ns + static_cast<int64_t>(opt.duration_s * 1e9);
  WorkerList workers = StartWorkers(shared);
  const double total = opt.warmup_s + opt.duration_s;
  Supervise(opt, workers, plan.start_ns, total, total + 5, log, stop);
  int64_t end_ns = plan.measure_start_ns;
  for (auto& w : workers) {
    result->stats.Merge(w->final_stats());
    end_ns = std::max(end_ns, w->end_ns());
  }
  result->duration_s = static_cast<double>(end_ns - plan.measure_start_ns) / 1e9;
  if (watchers) {
    watchers->Stop();
    result->feed = watchers->result();
  }
  if (result->stats.connects == 0) {
    result->error = "target " + opt.target + " refused every connection";
    return 1;
  }
  return 0;
}

}  // namespace httpkv::bench
