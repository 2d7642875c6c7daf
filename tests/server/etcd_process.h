// Runs real etcd servers (/usr/bin/etcd, or $HTTPKV_ETCD_BIN) as child processes on free
// loopback ports for tests: one member or a 3-member cluster, each with its data under a
// fresh temporary directory; members can be SIGKILLed, stopped and restarted. Everything
// still running is killed, and the directory removed, when the object goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace httpkv::etcd_test {

class EtcdCluster {
 public:
  EtcdCluster() = default;
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // The etcd binary to run; Available() says whether it exists (tests GTEST_SKIP if not).
  static std::string Binary();
  static bool Available();

  // Starts `members` members (named m0, m1, ...; "default" for a single one) and waits,
  // bounded by `wait`, until every one answers a read. False with *error (and the logs'
  // tails) otherwise.
  bool Start(int members, std::string* error,
             std::chrono::milliseconds wait = std::chrono::seconds(30));

  int size() const { return static_cast<int>(members_.size()); }
  const std::string& client_url(int i) const { return members_[i].client_url; }
  std::vector<std::string> client_urls() const;
  bool running(int i) const { return members_[i].pid > 0; }

  void Kill(int i);  // SIGKILL and reap
  void Stop(int i);  // SIGTERM and reap (a clean shutdown)
  // Starts a killed or stopped member again on the same ports and data; waits (bounded)
  // until it answers a read, which needs a quorum.
  bool Restart(int i, std::string* error,
               std::chrono::milliseconds wait = std::chrono::seconds(30));
  // The member's combined stdout/stderr so far.
  std::string Log(int i) const;

 private:
  struct Member {
    std::string name, client_url, peer_url, data_dir, log_path;
    pid_t pid = -1;
  };

  bool Spawn(int i, std::string* error);
  bool WaitReady(int i, std::chrono::steady_clock::time_point deadline, std::string* error);
  void Signal(int i, int sig);

  std::string dir_;
  std::string initial_cluster_;
  std::vector<Member> members_;
};

}  // namespace httpkv::etcd_test
