// Poller: the tiny readiness API every event loop runs on (cf. Redis ae.c).
//
// The backend is chosen at compile time by CMake: epoll_poller.cc on Linux,
// kqueue_poller.cc on macOS/BSD. Both are LEVEL-TRIGGERED: an fd that still has
// unread input (or free send space while write interest is on) is reported again on
// the next Wait. That lets a connection stop reading for back-pressure by simply
// dropping read interest, and lets the read path stop after a short read instead of
// paying one more read(2) just to see EAGAIN — nothing is ever left unnoticed.
//
// Thread affinity: a Poller belongs to one EventLoop and is used only on its thread.
//
// Errors, here and everywhere in reactor/: a function that can fail returns a negative
// errno value (-EBADF), and 0 or a non-negative result (a count, an fd) on success, as
// the kernel's own interface does. errno is never the channel.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace httpkv::reactor {

enum Interest : uint32_t {
  kNoInterest = 0,
  kReadable = 1u << 0,
  kWritable = 1u << 1,
};

struct PollEvent {
  void* token = nullptr;  // what was registered with the fd
  bool readable = false;
  bool writable = false;
  bool error = false;  // error or hang-up: the handler should read (to see EOF) or close
};

class Poller {
 public:
  virtual ~Poller() = default;
  // Each returns 0 on success or -errno; callers must check.
  virtual int Add(int fd, uint32_t interest, void* token) = 0;
  virtual int Modify(int fd, uint32_t interest, void* token) = 0;
  virtual int Remove(int fd) = 0;
  // Blocks up to timeout_ms (-1: no limit). Returns the number of events written to
  // `out`, 0 on timeout or EINTR, -errno on failure.
  virtual int Wait(int timeout_ms, std::span<PollEvent> out) = 0;
  virtual const char* backend() const = 0;
};

// Creates the compile-time selected backend into *out: 0, or -errno if the kernel refuses.
int NewPoller(std::unique_ptr<Poller>* out);

}  // namespace httpkv::reactor
