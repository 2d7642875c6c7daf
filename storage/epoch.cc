#include "storage/epoch.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace httpkv::storage {
namespace {

struct alignas(64) Slot {
  std::atomic<uint64_t> epoch{0};  // 0: not in a read section
  std::atomic<bool> used{false};
};

Slot g_slots[Epoch::kMaxThreads];
std::atomic<size_t> g_high_water{0};  // slots [0, high water) may be in use
std::atomic<uint64_t> g_epoch{1};

// The calling thread's slot, claimed on first use and returned at thread exit.
struct ThreadSlot {
  Slot* slot = nullptr;
  int depth = 0;

  ~ThreadSlot() {
    if (slot == nullptr) return;
    slot->epoch.store(0, std::memory_order_seq_cst);
    slot->used.store(false, std::memory_order_release);
  }

  Slot* Get() {
    if (slot != nullptr) return slot;
    for (size_t i = 0; i < Epoch::kMaxThreads; ++i) {
      bool expected = false;
      if (g_slots[i].used.load(std::memory_order_relaxed) ||
          !g_slots[i].used.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        continue;
      }
      size_t hw = g_high_water.load(std::memory_order_relaxed);
      while (hw < i + 1 && !g_high_water.compare_exchange_weak(hw, i + 1)) {
      }
      slot = &g_slots[i];
      return slot;
    }
    std::fprintf(stderr, "httpkv: panic: more than %zu threads inside the epoch domain\n",
                 Epoch::kMaxThreads);
    std::abort();
  }
};

thread_local ThreadSlot t_slot;

}  // namespace

void Epoch::Enter() {
  if (t_slot.depth++ > 0) return;
  // seq_cst store: ordered before the loads of the pointers this section follows.
  t_slot.Get()->epoch.store(g_epoch.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
}

void Epoch::Exit() {
  if (--t_slot.depth > 0) return;
  t_slot.slot->epoch.store(0, std::memory_order_release);
}

bool Epoch::InReadSection() {
  return t_slot.depth > 0;
}

uint64_t Epoch::StartGracePeriod() {
  return g_epoch.fetch_add(1, std::memory_order_seq_cst) + 1;
}

bool Epoch::GracePeriodOver(uint64_t token) {
  const size_t n = g_high_water.load(std::memory_order_seq_cst);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t e = g_slots[i].epoch.load(std::memory_order_seq_cst);
    if (e != 0 && e < token) return false;
  }
  return true;
}

void Epoch::Synchronize() {
  const uint64_t token = StartGracePeriod();
  for (int spins = 0; !GracePeriodOver(token); ++spins) {
    if (spins > 64) std::this_thread::yield();  // readers never block: this is brief
  }
}

}  // namespace httpkv::storage
