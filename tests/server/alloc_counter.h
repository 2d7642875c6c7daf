// Counts global operator new calls made by the current thread while enabled. Include in
// exactly one translation unit of a binary: it replaces the global allocation functions.
// Background threads (the store's syncer) are not counted: only the request path is.
//
// ReactorAllocScope counts instead on the server's reactor threads (those named
// server::HttpWorker::kThreadName), whichever thread opens the scope: a test's client
// thread allocates freely. HTTPKV_ABORT_ON_ALLOC=1 aborts at the first counted
// allocation, so a debugger (or the core) shows the allocating frame.
#pragma once

#include <sys/prctl.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

inline std::atomic<bool> g_count_reactor_allocs{false};
inline std::atomic<uint64_t> g_reactor_allocs{0};

inline bool OnReactorThread() {
  char name[16] = {};
  ::prctl(PR_GET_NAME, name);
  return std::strcmp(name, "httpkv-reactor") == 0;  // server::HttpWorker::kThreadName
}

class ReactorAllocScope {
 public:
  ReactorAllocScope() : start_(g_reactor_allocs.load()) { g_count_reactor_allocs = true; }
  ~ReactorAllocScope() { g_count_reactor_allocs = false; }
  uint64_t allocs() const { return g_reactor_allocs.load() - start_; }

 private:
  uint64_t start_;
};

inline void NoteReactorAlloc() {
  if (!g_count_reactor_allocs.load(std::memory_order_relaxed) || !OnReactorThread()) return;
  g_reactor_allocs.fetch_add(1);
  static const bool abort_on_alloc = std::getenv("HTTPKV_ABORT_ON_ALLOC") != nullptr;
  if (abort_on_alloc) std::abort();
}

}  // namespace httpkv::testing

inline void* CountedAlloc(std::size_t n) {
  if (httpkv::testing::t_count_allocs) ++httpkv::testing::t_allocs;
  httpkv::testing::NoteReactorAlloc();
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
