// BufferPool: a loop's spare Buffer storage, so that connections which need buffers of
// their own now and then (a request split across reads, output held until an fsync,
// output the kernel did not take) reuse storage instead of allocating each time, while
// idle connections still own none (Connection hands storage back as soon as a buffer
// empties). Bounded: at most kMaxBuffers spares of at most kMaxBytes each per loop; the
// rest is freed. Loop-thread only, like the connections that use it.
#pragma once

#include <cstddef>
#include <vector>

#include "reactor/buffer.h"

namespace httpkv::reactor {

class BufferPool {
 public:
  static constexpr size_t kMaxBuffers = 64;
  static constexpr size_t kMaxBytes = 64 * 1024;

  BufferPool() { spares_.reserve(kMaxBuffers); }

  // Gives `b` (which must own no storage) a spare's storage, if there is one.
  void Lend(Buffer* b) {
    if (b->capacity() != 0 || spares_.empty()) return;
    *b = std::move(spares_.back());
    spares_.pop_back();
  }
  // Takes the storage of `b` (which must be empty) back, or frees it; `b` owns none after.
  void Return(Buffer* b) {
    if (b->capacity() != 0 && b->capacity() <= kMaxBytes && spares_.size() < kMaxBuffers) {
      b->ConsumeAll();
      spares_.push_back(std::move(*b));
    }
    b->Release();
  }
  size_t spares() const { return spares_.size(); }

 private:
  std::vector<Buffer> spares_;  // capacity reserved: Return never allocates
};

}  // namespace httpkv::reactor
