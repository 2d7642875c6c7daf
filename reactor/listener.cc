#include "reactor/listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace httpkv::reactor {

namespace {

// Fills *error with "<what>: <strerror>", closes fd if open, returns -errno.
int SocketFailure(int fd, const std::string& what, std::string* error) {
  const int err = errno;
  *error = what + ": " + std::strerror(err);
  if (fd >= 0) ::close(fd);
  return -err;
}

}  // namespace

int Listener::OpenSocket(const InetAddress& addr, bool reuse_port, std::string* error) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketFailure(-1, "socket", error);
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)) {
    return SocketFailure(fd, "setsockopt", error);
  }
  if (::bind(fd, addr.sockaddr_ptr(), addr.length()) != 0) {
    return SocketFailure(fd, "cannot bind " + addr.ToString(), error);
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    return SocketFailure(fd, "cannot listen on " + addr.ToString(), error);
  }
  return fd;
}

Listener::Listener(EventLoop* loop, int listen_fd, AcceptCallback on_accept)
    : loop_(loop),
      fd_(listen_fd),
      reserve_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)),
      on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
  Stop();
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

int Listener::Start() {
  loop_->AssertInLoopThread();
  return loop_->poller().Add(fd_, kReadable, this);
}

void Listener::Stop() {
  loop_->AssertInLoopThread();
  if (fd_ < 0) return;
  loop_->poller().Remove(fd_);  // failure is harmless: close() drops it from epoll too
  ::close(fd_);
  fd_ = -1;
}

void Listener::HandleEvent(const PollEvent&) {
  while (fd_ >= 0) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      on_accept_(c);
      continue;
    }
    switch (errno) {
      case EAGAIN:
      case EINTR:
        return;
      case ECONNABORTED:
      case EPROTO:
        continue;  // the peer gave up before we accepted: try the next one
      case EMFILE:
      case ENFILE:
        ++accept_errors_;
        ShedOnFdExhaustion();
        return;
      default:
        ++accept_errors_;
        return;
    }
  }
}

// Out of descriptors: free the reserved one, accept the pending connection and close
// it straight away (the client sees a reset rather than hanging), then re-reserve.
void Listener::ShedOnFdExhaustion() {
  if (reserve_fd_ < 0) return;
  ::close(reserve_fd_);
  int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) {
    ::close(c);
    ++shed_;
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace httpkv::reactor
