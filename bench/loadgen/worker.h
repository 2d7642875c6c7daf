// Worker: one thread running one reactor::EventLoop with a slice of the connections.
//
// Everything a connection touches on the hot path (its stats, the scratch Response, the
// pacer) belongs to its worker, so threads share nothing but read-only configuration.
// Other threads may only call Start/Join/RequestStop/finished/Progress.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/client_conn.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/open_loop.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/stats.h"
#include "http/response_parser.h"
#include "reactor/event_loop.h"

namespace httpkv::bench {

// Read-only state shared by all workers of one phase.
struct Shared {
  const Options* opt = nullptr;
  const RequestBuilder* builder = nullptr;
  const RequestMix* mix = nullptr;
  const KeyChooser* keys = nullptr;
  Plan plan;
  class AckTable* acks = nullptr;               // --watchers: PUT answers' X-Seq are stamped here
  const struct ClusterKeys* cluster = nullptr;  // --cluster (conn_group.h)
};

// Keeps the loop from sleeping: an eventfd that stays readable makes every poll return
// at once. A sleeping client costs the *server's* core a wake-up per response, so with
// a dedicated core spinning lets a server-bound benchmark go faster (--busy-poll).
class Spinner final : public reactor::IoHandler {
 public:
  ~Spinner();
  int Start(reactor::EventLoop* loop);  // 0 or errno
  void HandleEvent(const reactor::PollEvent&) override {}

 private:
  reactor::EventLoop* loop_ = nullptr;
  int fd_ = -1;
};

class Worker {
 public:
  // Connections [first, first + count) of the run-wide numbering.
  Worker(const Shared& shared, uint32_t first, uint32_t count);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();
  void Join();
  void RequestStop();  // any thread
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Requests completed so far and (if progress is on) the latency histogram as of the
  // last publication, merged into *latency. Any thread.
  uint64_t Progress(Histogram* latency);

  // Loop thread (used by ClientConn).
  reactor::EventLoop& loop() { return loop_; }
  const Shared& shared() const { return shared_; }
  Stats& stats() { return stats_; }
  http::Response& response() { return *response_; }
  reactor::Buffer& scratch() { return scratch_; }  // read buffer, empty between reads
  void WakeAt(int64_t due_ns) { pacer_.WakeAt(due_ns); }
  void ConnDone();
  // --cluster: where owner o's connections go, as this worker last looked it up.
  const reactor::InetAddress& OwnerAddress(uint32_t o) const { return owner_addr_[o]; }
  // Looks owner o up again (`primary`: a 421's X-Primary, else Routes::Refresh); true
  // if its address changed.
  bool RefreshOwner(uint32_t o, const std::string& primary);
  bool stopping() const { return stopping_; }

  // After Join().
  const Stats& final_stats() const { return stats_; }
  int64_t end_ns() const { return end_ns_; }

 private:
  void Run();
  void Stop();
  void Publish();
  void ScheduleTimers();
  void CreateConns();
  void CreateGroups();

  const Shared& shared_;
  uint32_t first_;
  uint32_t count_;
  reactor::EventLoop loop_;
  Pacer pacer_;
  Spinner spinner_;
  Stats stats_;
  std::unique_ptr<http::Response> response_;  // scratch, ~4 KiB of header slots
  reactor::Buffer scratch_;
  std::vector<std::unique_ptr<ClientConn>> conns_;
  std::vector<std::unique_ptr<class ConnGroup>> groups_;  // --cluster; after conns_ is cleared
  std::vector<reactor::InetAddress> owner_addr_;          // --cluster
  uint32_t done_conns_ = 0;
  bool stopping_ = false;
  int64_t end_ns_ = 0;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> completed_{0};
  std::mutex progress_mu_;
  Histogram progress_latency_;  // guarded by progress_mu_
};

}  // namespace httpkv::bench
