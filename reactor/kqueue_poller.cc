// macOS/BSD backend of Poller (kqueue, level-triggered like the epoll backend).
// Read and write interest are two separate kevent filters, so Modify adds or
// deletes each filter to match the asked interest.
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

#include "reactor/poller.h"

namespace httpkv::reactor {
namespace {

class KqueuePoller final : public Poller {
 public:
  explicit KqueuePoller(int kq) : kq_(kq) {}
  ~KqueuePoller() override { ::close(kq_); }

  int Add(int fd, uint32_t interest, void* token) override {
    if (interest_.count(fd)) return -EEXIST;
    int err = Apply(fd, 0, interest, token);
    if (err == 0) interest_[fd] = interest;
    return err;
  }
  int Modify(int fd, uint32_t interest, void* token) override {
    auto it = interest_.find(fd);
    if (it == interest_.end()) return -ENOENT;
    int err = Apply(fd, it->second, interest, token);
    if (err == 0) it->second = interest;
    return err;
  }
  int Remove(int fd) override {
    auto it = interest_.find(fd);
    if (it == interest_.end()) return -ENOENT;
    int err = Apply(fd, it->second, 0, nullptr);
    interest_.erase(it);
    return err;
  }

  int Wait(int timeout_ms, std::span<PollEvent> out) override {
    if (native_.size() < out.size()) native_.resize(out.size());
    timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    int n = ::kevent(kq_, nullptr, 0, native_.data(), static_cast<int>(out.size()),
                     timeout_ms < 0 ? nullptr : &ts);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; ++i) {
      const struct kevent& k = native_[i];
      out[i] = PollEvent{};
      out[i].token = k.udata;
      out[i].readable = k.filter == EVFILT_READ;
      out[i].writable = k.filter == EVFILT_WRITE;
      out[i].error = (k.flags & (EV_ERROR | EV_EOF)) != 0;
    }
    return n;
  }

  const char* backend() const override { return "kqueue"; }

 private:
  int Apply(int fd, uint32_t from, uint32_t to, void* token) {
    struct kevent changes[2];
    int n = 0;
    auto set = [&](int16_t filter, uint32_t bit) {
      if ((from & bit) == (to & bit) && !(to & bit)) return;
      uint16_t flags = (to & bit) ? EV_ADD | EV_ENABLE : EV_DELETE;
      EV_SET(&changes[n++], fd, filter, flags, 0, 0, token);
    };
    set(EVFILT_READ, kReadable);
    set(EVFILT_WRITE, kWritable);
    if (n == 0) return 0;
    return ::kevent(kq_, changes, n, nullptr, 0, nullptr) == 0 ? 0 : -errno;
  }

  int kq_;
  std::unordered_map<int, uint32_t> interest_;
  std::vector<struct kevent> native_;
};

}  // namespace

int NewPoller(std::unique_ptr<Poller>* out) {
  int kq = ::kqueue();
  if (kq < 0) return -errno;
  *out = std::make_unique<KqueuePoller>(kq);
  return 0;
}

}  // namespace httpkv::reactor
