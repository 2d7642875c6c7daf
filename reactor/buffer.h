// Buffer: a contiguous byte queue used for connection input and output.
//
// Layout: [0, read_) consumed | [read_, write_) readable | [write_, cap) writable.
// Consumed space is reclaimed by sliding the readable bytes to the front only when
// more room is needed, so a steady stream of small requests never reallocates.
// Storage is allocated lazily: an idle connection's Buffer costs only its header.
// Not thread-safe: a Buffer belongs to one connection on one loop thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace httpkv::reactor {

class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  size_t readable_bytes() const { return write_ - read_; }
  size_t writable_bytes() const { return cap_ - write_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return read_ == write_; }

  // Readable region. Mutable because in-place decoders (chunked bodies) rewrite it.
  char* peek() { return data_.get() + read_; }
  const char* peek() const { return data_.get() + read_; }
  std::string_view view() const { return {peek(), readable_bytes()}; }
  std::span<char> readable_span() { return {peek(), readable_bytes()}; }

  void Consume(size_t n) {
    read_ += n;
    if (read_ >= write_) read_ = write_ = 0;  // empty: restart at the front for free
  }
  void ConsumeAll() { read_ = write_ = 0; }

  // Makes room for at least n more bytes after the readable region.
  void EnsureWritable(size_t n) {
    if (writable_bytes() < n) MakeRoom(n);
  }
  char* begin_write() { return data_.get() + write_; }
  void Commit(size_t n) { write_ += n; }

  void Append(std::string_view s) {
    EnsureWritable(s.size());
    if (!s.empty()) std::memcpy(begin_write(), s.data(), s.size());
    write_ += s.size();
  }
  void Append(char c) {
    EnsureWritable(1);
    data_[write_++] = c;
  }
  // Appends a decimal unsigned integer without going through iostreams or allocation.
  void AppendDecimal(unsigned long long v);

  // Drops storage entirely (used when a connection goes idle and the buffer is empty).
  void Release() {
    data_.reset();
    cap_ = read_ = write_ = 0;
  }

  // Reads once from fd into the writable region (growing to at least min_space free).
  // Returns the bytes read, 0 at EOF, or -errno (EINTR is retried).
  ssize_t ReadFromFd(int fd, size_t min_space);

 private:
  void MakeRoom(size_t n);

  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace httpkv::reactor
