#include "storage/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace httpkv::storage {
namespace {

// Best effort: the holder may not have written its pid yet.
std::string ReadHolderPid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid.empty() ? "unknown" : pid;
}

std::string ErrnoText(std::string_view what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

}  // namespace

Status DirLock::Acquire(const std::string& dir, std::unique_ptr<DirLock>* out) {
  std::string path = dir + "/LOCK";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(ErrnoText("cannot open lock file", path, errno));
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      std::string pid = ReadHolderPid(fd);
      close(fd);
      return Status::Busy("data dir " + dir + " is in use by another httpkv-server (pid " + pid +
                          ")");
    }
    close(fd);
    return Status::IOError(ErrnoText("cannot lock", path, err));
  }
  // Record our pid for the error message of whoever tries next; failure here is harmless.
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = pwrite(fd, pid.data(), pid.size(), 0);
  }
  out->reset(new DirLock(fd, std::move(path)));
  return Status::OK();
}

DirLock::~DirLock() {
  flock(fd_, LOCK_UN);
  close(fd_);
}

}  // namespace httpkv::storage
