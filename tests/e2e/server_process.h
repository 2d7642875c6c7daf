// Runs the real httpkv-server binary as a child process for lifecycle tests: start it,
// learn its port from the "listening on" log line, signal it, collect its exit status.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace httpkv::e2e {

class ServerProcess {
 public:
  ~ServerProcess();
  // Starts the binary with args; returns once it logged "listening on" (true) or
  // exited (false). Blocking reads on its stderr pipe: no polling, no sleeps.
  bool Start(const std::vector<std::string>& args);
  uint16_t port() const { return port_; }
  void Signal(int sig);
  // Reads the process's stderr until `text` appears (true) or it exits (false).
  bool WaitForLog(const std::string& text);
  // Waits for exit; returns the exit code, or 128+signal if killed.
  int Wait();
  // Everything the process wrote to stderr so far (complete after Wait()).
  const std::string& log() const { return log_; }

 private:
  void ReadRemainingLog();

  pid_t pid_ = -1;
  int err_fd_ = -1;
  uint16_t port_ = 0;
  std::string log_;
};

// Runs the binary to completion (for flag errors); returns exit code, fills *stderr_text.
int RunServerToExit(const std::vector<std::string>& args, std::string* stderr_text);

}  // namespace httpkv::e2e
