#include "tests/e2e/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace httpkv::e2e {
namespace {

pid_t Spawn(const std::vector<std::string>& args, int* err_fd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 2);
    std::vector<char*> argv;
    std::string bin = HTTPKV_SERVER_BIN;
    argv.push_back(bin.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    std::_Exit(127);
  }
  ::close(p[1]);
  *err_fd = p[0];
  return pid;
}

}  // namespace

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool ServerProcess::Start(const std::vector<std::string>& args) {
  pid_ = Spawn(args, &err_fd_);
  if (pid_ < 0) return false;
  const std::string marker = "listening on ";
  for (;;) {
    size_t at = log_.find(marker);
    size_t eol = at == std::string::npos ? at : log_.find('\n', at);
    if (eol != std::string::npos) {
      std::string addr = log_.substr(at + marker.size(), eol - at - marker.size());
      port_ = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
      return true;
    }
    char buf[4096];
    ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) return false;  // exited before listening
    log_.append(buf, static_cast<size_t>(n));
  }
}

bool ServerProcess::WaitForLog(const std::string& text) {
  const size_t from = log_.size();
  for (;;) {
    if (log_.find(text, from > text.size() ? from - text.size() : 0) != std::string::npos) {
      return true;
    }
    char buf[4096];
    ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    log_.append(buf, static_cast<size_t>(n));
  }
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void ServerProcess::ReadRemainingLog() {
  char buf[4096];
  ssize_t n;
  while ((n = ::read(err_fd_, buf, sizeof buf)) > 0) log_.append(buf, static_cast<size_t>(n));
}

int ServerProcess::Wait() {
  if (pid_ <= 0) return -1;
  ReadRemainingLog();  // EOF once the process (the pipe's only writer) exited
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int RunServerToExit(const std::vector<std::string>& args, std::string* stderr_text) {
  ServerProcess p;
  p.Start(args);  // returns false once the process exits without listening
  int rc = p.Wait();
  *stderr_text = p.log();
  return rc;
}

}  // namespace httpkv::e2e
