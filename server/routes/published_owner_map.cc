#include "server/routes/published_owner_map.h"

#include "storage/segment.h"

namespace httpkv::server {

using placement::OwnerMap;

PublishedOwnerMap::PublishedOwnerMap(storage::FileSystem* fs, std::string data_dir)
    : fs_(fs), dir_(std::move(data_dir)) {}

bool PublishedOwnerMap::Load(std::string* error) {
  std::string text;
  const std::string path = dir_ + "/" + kPlacementFile;
  storage::Status st = storage::ReadWholeFile(fs_, path, &text);
  if (st.IsNotFound()) return true;
  auto map = std::make_unique<OwnerMap>();
  if (!st.ok()) {
    *error = path + ": " + st.ToString();
    return false;
  }
  if (!OwnerMap::Parse(text, map.get(), error)) {
    *error = path + ": " + *error;
    return false;
  }
  std::lock_guard<std::mutex> lock(publish_mu_);
  current_.store(map.get(), std::memory_order_release);
  kept_.push_back(std::move(map));
  return true;
}

PublishedOwnerMap::Outcome PublishedOwnerMap::Publish(std::unique_ptr<OwnerMap> map,
                                                      std::string* error) {
  // One change at a time, and never waiting here: two loops each publishing and each waiting
  // for the other's barrier would stall both until the bound.
  std::unique_lock<std::mutex> lock(publish_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Outcome::kBusy;
  storage::Status st = map ? storage::WriteFileAtomic(fs_, dir_, kPlacementFile, map->ToJson())
                           : fs_->Unlink(dir_ + "/" + kPlacementFile);
  if (!st.ok() && !(map == nullptr && st.IsNotFound())) {
    *error = st.ToString();
    return Outcome::kNotSaved;
  }
  current_.store(map.get(), std::memory_order_release);
  if (map) kept_.push_back(std::move(map));
  if (barrier_ && !barrier_()) return Outcome::kNotEverywhere;
  return Outcome::kPublished;
}

}  // namespace httpkv::server
