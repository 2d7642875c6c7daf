#include "storage/feed_state.h"

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/segment.h"

namespace httpkv::storage {
namespace {

constexpr uint32_t kFeedMagic = 0x464B5648;  // "HVKF" on disk
constexpr size_t kFeedStateSize = 28;        // magic, reserved, horizon, last_seq, crc

}  // namespace

Status ReadFeedState(FileSystem* fs, const std::string& dir, FeedState* out) {
  std::string data;
  if (Status s = ReadWholeFile(fs, dir + "/" + kFeedStateFile, &data); !s.ok()) return s;
  if (data.size() != kFeedStateSize || DecodeFixed32(data.data()) != kFeedMagic ||
      Crc32c(data.data(), kFeedStateSize - 4) != DecodeFixed32(data.data() + 24)) {
    return Status::Corruption(std::string(kFeedStateFile) + ": damaged");
  }
  out->horizon = DecodeFixed64(data.data() + 8);
  out->last_seq = DecodeFixed64(data.data() + 16);
  return Status::OK();
}

Status WriteFeedState(FileSystem* fs, const std::string& dir, const FeedState& state) {
  std::string data;
  PutFixed32(&data, kFeedMagic);
  PutFixed32(&data, 0);
  PutFixed64(&data, state.horizon);
  PutFixed64(&data, state.last_seq);
  PutFixed32(&data, Crc32c(data.data(), data.size()));
  return WriteFileAtomic(fs, dir, kFeedStateFile, data);
}

}  // namespace httpkv::storage
