// Counts global operator new calls made by the current thread while enabled. Include in
// exactly one translation unit of a binary: it replaces the global allocation functions.
// Background threads (the store's syncer) are not counted: only the request path is.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>

namespace httpkv::testing {

inline thread_local bool t_count_allocs = false;
inline thread_local uint64_t t_allocs = 0;

// Counts allocations in scope; allocs() reads the running total.
class AllocScope {
 public:
  AllocScope() : start_(t_allocs) { t_count_allocs = true; }
  ~AllocScope() { t_count_allocs = false; }
  uint64_t allocs() const { return t_allocs - start_; }

 private:
  uint64_t start_;
};

}  // namespace httpkv::testing

inline void* CountedAlloc(std::size_t n) {
  if (httpkv::testing::t_count_allocs) ++httpkv::testing::t_allocs;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void* operator new(std::size_t n) {
  return CountedAlloc(n);
}
void* operator new[](std::size_t n) {
  return CountedAlloc(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
