// The FEED file: the change feed's horizon and the last seq when it was written (layout:
// storage/FORMAT.md "Change feed"). Written atomically by compaction before it commits.
#pragma once

#include <cstdint>
#include <string>

#include "storage/env.h"
#include "storage/status.h"

namespace httpkv::storage {

inline constexpr char kFeedStateFile[] = "FEED";

struct FeedState {
  uint64_t horizon = 0;
  uint64_t last_seq = 0;
};

// NotFound when there is no FEED file; Corruption when it is damaged.
Status ReadFeedState(FileSystem* fs, const std::string& dir, FeedState* out);
Status WriteFeedState(FileSystem* fs, const std::string& dir, const FeedState& state);

}  // namespace httpkv::storage
