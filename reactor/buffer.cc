#include "reactor/buffer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace httpkv::reactor {

void Buffer::MakeRoom(size_t n) {
  const size_t live = readable_bytes();
  if (read_ + writable_bytes() >= n && live <= cap_ / 2) {
    // Enough space once consumed bytes are reclaimed, and cheap to slide.
    std::memmove(data_.get(), data_.get() + read_, live);
    read_ = 0;
    write_ = live;
    return;
  }
  size_t new_cap = std::max<size_t>(cap_ ? cap_ : 1024, 1024);
  while (new_cap < live + n) new_cap *= 2;
  auto fresh = std::make_unique_for_overwrite<char[]>(new_cap);
  if (live) std::memcpy(fresh.get(), data_.get() + read_, live);
  data_ = std::move(fresh);
  cap_ = new_cap;
  read_ = 0;
  write_ = live;
}

void Buffer::AppendDecimal(unsigned long long v) {
  char tmp[24];
  char* end = tmp + sizeof tmp;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  Append(std::string_view(p, static_cast<size_t>(end - p)));
}

ssize_t Buffer::ReadFromFd(int fd, size_t min_space) {
  EnsureWritable(min_space);
  ssize_t n;
  do {
    n = ::read(fd, begin_write(), writable_bytes());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  write_ += static_cast<size_t>(n);
  return n;
}

}  // namespace httpkv::reactor
