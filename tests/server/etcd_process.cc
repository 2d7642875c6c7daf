#include "tests/server/etcd_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "server/etcd/etcd_client.h"

namespace httpkv::etcd_test {
namespace {

// `n` distinct free loopback ports: all bound at once (so no duplicates), then released.
std::vector<int> FreePorts(int n) {
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      break;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

std::string Tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string EtcdCluster::Binary() {
  const char* env = std::getenv("HTTPKV_ETCD_BIN");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/etcd";
}

bool EtcdCluster::Available() {
  return ::access(Binary().c_str(), X_OK) == 0;
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (const Member& m : members_) urls.push_back(m.client_url);
  return urls;
}

bool EtcdCluster::Start(int members, std::string* error, std::chrono::milliseconds wait) {
  std::string templ = (std::filesystem::temp_directory_path() / "httpkv-etcd-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    *error = "mkdtemp failed";
    return false;
  }
  dir_ = templ;
  std::vector<int> ports = FreePorts(2 * members);
  if (static_cast<int>(ports.size()) != 2 * members) {
    *error = "no free loopback ports";
    return false;
  }
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = members == 1 ? "default" : "m" + std::to_string(i);
    m.client_url = "http://127.0.0.1:" + std::to_string(ports[2 * i]);
    m.peer_url = "http://127.0.0.1:" + std::to_string(ports[2 * i + 1]);
    m.data_dir = dir_ + "/" + m.name + ".etcd";
    m.log_path = dir_ + "/" + m.name + ".log";
    if (!initial_cluster_.empty()) initial_cluster_ += ",";
    initial_cluster_ += m.name + "=" + m.peer_url;
    members_.push_back(std::move(m));
  }
  for (int i = 0; i < members; ++i) {
    if (!Spawn(i, error)) return false;
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (int i = 0; i < members; ++i) {
    if (!WaitReady(i, deadline, error)) return false;
  }
  return true;
}

bool EtcdCluster::Spawn(int i, std::string* error) {
  Member& m = members_[i];
  std::vector<std::string> args = {Binary(),         "--name",
                                   m.name,           "--data-dir",
                                   m.data_dir,       "--listen-client-urls",
                                   m.client_url,     "--advertise-client-urls",
                                   m.client_url,     "--listen-peer-urls",
                                   m.peer_url,       "--initial-advertise-peer-urls",
                                   m.peer_url,       "--initial-cluster",
                                   initial_cluster_, "--initial-cluster-token",
                                   "httpkv-test",    "--log-outputs",
                                   "stderr"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd = ::open(m.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *error = "cannot open " + m.log_path;
    return false;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
#ifdef __linux__
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // no stray etcd if the test binary dies
#endif
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) {
    *error = "fork failed";
    return false;
  }
  m.pid = pid;
  return true;
}

bool EtcdCluster::WaitReady(int i, std::chrono::steady_clock::time_point deadline,
                            std::string* error) {
  Member& m = members_[i];
  etcd::EtcdClient client({m.client_url}, std::chrono::milliseconds(500));
  std::string last;
  // Bounded wait on the condition "a read through this member succeeds".
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(m.pid, &status, WNOHANG) == m.pid) {
      m.pid = -1;
      *error = "etcd " + m.name + " exited early:\n" + Tail(Log(i), 3000);
      return false;
    }
    std::optional<etcd::KeyValue> kv;
    etcd::EtcdError e = client.Get("httpkv-test-readiness-probe", &kv);
    if (e.ok()) return true;
    last = e.message;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval, not a sync
  }
  *error = "etcd " + m.name + " did not answer in time (" + last + "):\n" + Tail(Log(i), 3000);
  return false;
}

void EtcdCluster::Signal(int i, int sig) {
  Member& m = members_[i];
  if (m.pid <= 0) return;
  ::kill(m.pid, sig);
  int status = 0;
  ::waitpid(m.pid, &status, 0);
  m.pid = -1;
}

void EtcdCluster::Kill(int i) {
  Signal(i, SIGKILL);
}
void EtcdCluster::Stop(int i) {
  Signal(i, SIGTERM);
}

bool EtcdCluster::Restart(int i, std::string* error, std::chrono::milliseconds wait) {
  if (running(i)) {
    *error = "member is running";
    return false;
  }
  if (!Spawn(i, error)) return false;
  return WaitReady(i, std::chrono::steady_clock::now() + wait, error);
}

std::string EtcdCluster::Log(int i) const {
  std::ifstream in(members_[i].log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace httpkv::etcd_test
