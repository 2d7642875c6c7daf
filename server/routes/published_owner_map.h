// PublishedOwnerMap: the OwnerMap (server/placement/owner_map.h) every loop of a node checks
// keyed requests against, and its file DATA_DIR/placement.json, so that a restarted node
// still knows which keys are not its own.
//
// Readers (each loop, per keyed request) load one atomic pointer: no lock, no reference count.
// A published map is never freed while the process lives (a change is an operator's or the
// mover's act, a handful per add/remove: bytes, not a leak that grows with traffic), so a
// pointer a loop loaded stays valid.
//
// Publish() makes a change take effect everywhere before it returns: after the pointer is
// swapped, every other loop runs one posted task (the barrier), so no request that saw the
// old map is still being served. The mover relies on it: once PUT /admin/placement has been
// answered, no write to a key that left this node can still be accepted.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/placement/owner_map.h"
#include "storage/env.h"
#include "storage/status.h"

namespace httpkv::server {

class PublishedOwnerMap {
 public:
  // Runs a no-op on every other loop and waits for them (bounded); false if one did not
  // answer in time.
  using Barrier = std::function<bool()>;
  enum class Outcome : uint8_t { kPublished, kBusy, kNotSaved, kNotEverywhere };

  PublishedOwnerMap(storage::FileSystem* fs, std::string data_dir);

  // At start-up: reads DATA_DIR/placement.json if there is one. False with *error when the
  // file is there but unreadable or invalid (the server refuses to start: it would serve keys
  // it may not own).
  bool Load(std::string* error);
  // Before the loops start.
  void SetBarrier(Barrier barrier) { barrier_ = std::move(barrier); }

  // nullptr: this node has no placement (it serves every key).
  const placement::OwnerMap* current() const { return current_.load(std::memory_order_acquire); }

  // Saves (or with nullptr removes) the file, then publishes. kBusy: another change is being
  // published (one at a time); kNotSaved: the file could not be written (*error; nothing
  // changed); kNotEverywhere: published, but a loop did not confirm within the bound.
  Outcome Publish(std::unique_ptr<placement::OwnerMap> map, std::string* error);

 private:
  storage::FileSystem* fs_;
  std::string dir_;
  Barrier barrier_;
  std::mutex publish_mu_;  // held (try_lock) by the one change being published
  std::vector<std::unique_ptr<placement::OwnerMap>> kept_;  // every map published; publish_mu_
  std::atomic<const placement::OwnerMap*> current_{nullptr};
};

inline constexpr const char* kPlacementFile = "placement.json";

}  // namespace httpkv::server
