// Linux backend of Poller (level-triggered epoll; see poller.h for why).
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "reactor/poller.h"

namespace httpkv::reactor {
namespace {

uint32_t ToEpoll(uint32_t interest) {
  uint32_t ev = 0;
  if (interest & kReadable) ev |= EPOLLIN | EPOLLRDHUP;
  if (interest & kWritable) ev |= EPOLLOUT;
  return ev;
}

class EpollPoller final : public Poller {
 public:
  explicit EpollPoller(int epfd) : epfd_(epfd) {}
  ~EpollPoller() override { ::close(epfd_); }

  int Add(int fd, uint32_t interest, void* token) override {
    return Ctl(EPOLL_CTL_ADD, fd, interest, token);
  }
  int Modify(int fd, uint32_t interest, void* token) override {
    return Ctl(EPOLL_CTL_MOD, fd, interest, token);
  }
  int Remove(int fd) override { return Ctl(EPOLL_CTL_DEL, fd, 0, nullptr); }

  int Wait(int timeout_ms, std::span<PollEvent> out) override {
    if (native_.size() < out.size()) native_.resize(out.size());
    int n = ::epoll_wait(epfd_, native_.data(), static_cast<int>(out.size()), timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; ++i) {
      const uint32_t ev = native_[i].events;
      out[i].token = native_[i].data.ptr;
      out[i].readable = ev & (EPOLLIN | EPOLLRDHUP);
      out[i].writable = ev & EPOLLOUT;
      out[i].error = ev & (EPOLLERR | EPOLLHUP);
    }
    return n;
  }

  const char* backend() const override { return "epoll"; }

 private:
  int Ctl(int op, int fd, uint32_t interest, void* token) {
    epoll_event ev{};
    ev.events = ToEpoll(interest);
    ev.data.ptr = token;
    return ::epoll_ctl(epfd_, op, fd, &ev) == 0 ? 0 : -errno;
  }

  int epfd_;
  std::vector<epoll_event> native_;
};

}  // namespace

int NewPoller(std::unique_ptr<Poller>* out) {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return -errno;
  *out = std::make_unique<EpollPoller>(fd);
  return 0;
}

}  // namespace httpkv::reactor
