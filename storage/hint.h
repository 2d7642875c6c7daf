// Hint files: a compact, checksummed list of a sealed segment's records (no values), so
// recovery can rebuild the index without reading the segment (layout: storage/FORMAT.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/coding.h"
#include "storage/record.h"
#include "storage/segment.h"
#include "storage/status.h"

namespace httpkv::storage {

inline constexpr uint32_t kHintMagic = 0x484B5648;  // "HVKH" on disk
// The hint layout's own version, unchanged since hints came (record format v2). Binaries of
// record formats v3 and v4 wrote the record version (3, 4) here over the same layout: a hint
// with 2, 3 or 4 is read alike (FORMAT.md "Hint files").
inline constexpr uint32_t kHintVersion = 2;
inline constexpr bool HintVersionKnown(uint32_t v) {
  return v >= 2 && v <= 4;
}
inline constexpr size_t kHintHeaderSize = 32;
inline constexpr size_t kHintEntryHeaderSize = 23;

struct HintEntry {
  RecordType type = RecordType::kPut;
  uint32_t value_len = 0;
  uint64_t offset = 0;
  uint64_t seq = 0;
  std::string_view key;
};

// Accumulates entries in file order; Finish() returns the encoded file.
class HintBuilder {
 public:
  HintBuilder();
  void Add(const RecordView& rec, uint64_t offset);
  std::string Finish(uint32_t segment_id, uint64_t segment_size);
  uint64_t count() const { return count_; }

 private:
  std::string buf_;
  uint64_t count_ = 0;
};

// OK when data is an intact hint for segment_id whose recorded segment size is
// segment_size (a hint for a different length of the segment is stale).
Status ValidateHint(std::string_view data, uint32_t segment_id, uint64_t segment_size);

// Calls fn(const HintEntry&) for each entry of a hint that passed ValidateHint.
template <typename Fn>
void ForEachHintEntry(std::string_view data, Fn&& fn) {
  const char* p = data.data() + kHintHeaderSize;
  const char* end = data.data() + data.size() - 4;
  while (p + kHintEntryHeaderSize <= end) {
    HintEntry e;
    e.type = static_cast<RecordType>(p[0]);
    const uint16_t key_len = DecodeFixed16(p + 1);
    e.value_len = DecodeFixed32(p + 3);
    e.offset = DecodeFixed64(p + 7);
    e.seq = DecodeFixed64(p + 15);
    e.key = std::string_view(p + kHintEntryHeaderSize, key_len);
    fn(e);
    p += kHintEntryHeaderSize + key_len;
  }
}

// Scans segment (must be immutable and durable) and writes DIR/NNNNNNNN.hint atomically.
Status WriteHintForSegment(FileSystem* fs, const std::string& dir, const Segment& segment);

}  // namespace httpkv::storage
