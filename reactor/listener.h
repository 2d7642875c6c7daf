// Listener: a non-blocking listening socket registered with one EventLoop.
//
// Each reactor thread owns its own Listener bound with SO_REUSEPORT to the same
// address, so the kernel spreads new connections and no accept lock or cross-thread
// hand-off is needed. On readiness it accepts until EAGAIN (accept4 with
// SOCK_NONBLOCK|SOCK_CLOEXEC), sets TCP_NODELAY and hands each fd to on_accept.
// EMFILE/ENFILE: a reserved fd is closed so the pending connection can be accepted
// and closed at once; otherwise a level-triggered listener would spin.
// Thread affinity: the owning loop's thread (Start and Stop assert it).
#pragma once

#include <functional>
#include <string>

#include "reactor/event_loop.h"
#include "reactor/inet_address.h"

namespace httpkv::reactor {

class Listener final : public IoHandler {
 public:
  using AcceptCallback = std::function<void(int fd)>;

  // Creates, binds and listens. Returns the fd, or -errno with *error set to one line.
  static int OpenSocket(const InetAddress& addr, bool reuse_port, std::string* error);

  Listener(EventLoop* loop, int listen_fd, AcceptCallback on_accept);
  ~Listener();

  int Start();  // registers with the poller; 0 or -errno
  void Stop();  // unregisters and closes the socket (idempotent)
  void HandleEvent(const PollEvent& ev) override;
  uint64_t accept_errors() const { return accept_errors_; }
  uint64_t shed_connections() const { return shed_; }  // accepted and closed on EMFILE

 private:
  void ShedOnFdExhaustion();

  EventLoop* loop_;
  int fd_;
  int reserve_fd_;
  AcceptCallback on_accept_;
  uint64_t accept_errors_ = 0;
  uint64_t shed_ = 0;
};

}  // namespace httpkv::reactor
