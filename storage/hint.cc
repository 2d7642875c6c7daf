#include "storage/hint.h"

#include "storage/crc32c.h"
#include "storage/record_scanner.h"

namespace httpkv::storage {
HintBuilder::HintBuilder() {
  buf_.resize(kHintHeaderSize);
}

void HintBuilder::Add(const RecordView& rec, uint64_t offset) {
  PutFixed8(&buf_, static_cast<uint8_t>(rec.header.type));
  PutFixed16(&buf_, rec.header.key_len);
  PutFixed32(&buf_, rec.header.value_len);
  PutFixed64(&buf_, offset);
  PutFixed64(&buf_, rec.header.seq);
  buf_.append(rec.key);
  ++count_;
}

std::string HintBuilder::Finish(uint32_t segment_id, uint64_t segment_size) {
  std::string header;
  PutFixed32(&header, kHintMagic);
  PutFixed32(&header, kHintVersion);
  PutFixed32(&header, segment_id);
  PutFixed32(&header, 0);
  PutFixed64(&header, segment_size);
  PutFixed64(&header, count_);
  buf_.replace(0, kHintHeaderSize, header);
  PutFixed32(&buf_, Crc32c(buf_.data(), buf_.size()));
  std::string out;
  out.swap(buf_);
  buf_.resize(kHintHeaderSize);
  count_ = 0;
  return out;
}

Status ValidateHint(std::string_view data, uint32_t segment_id, uint64_t segment_size) {
  if (data.size() < kHintHeaderSize + 4) return Status::Corruption("hint file too short");
  const char* p = data.data();
  if (Crc32c(p, data.size() - 4) != DecodeFixed32(p + data.size() - 4)) {
    return Status::Corruption("hint checksum mismatch");
  }
  if (DecodeFixed32(p) != kHintMagic || !HintVersionKnown(DecodeFixed32(p + 4))) {
    return Status::Corruption("bad hint magic/version");
  }
  if (DecodeFixed32(p + 8) != segment_id) return Status::Corruption("hint for another segment");
  if (DecodeFixed64(p + 16) != segment_size) {
    return Status::Corruption("hint is stale (segment size changed)");
  }
  // Walk the entries once so a reader can trust every length.
  const uint64_t count = DecodeFixed64(p + 24);
  const char* q = p + kHintHeaderSize;
  const char* end = p + data.size() - 4;
  uint64_t n = 0;
  while (q + kHintEntryHeaderSize <= end) {
    const auto type = static_cast<uint8_t>(q[0]);
    const auto key_len = DecodeFixed16(q + 1);
    if (type < 1 || type > 5 || (key_len == 0) != (type == 5)) {
      return Status::Corruption("bad hint entry");
    }
    q += kHintEntryHeaderSize + key_len;
    ++n;
  }
  if (q != end || n != count) return Status::Corruption("hint entry count mismatch");
  return Status::OK();
}

Status WriteHintForSegment(FileSystem* fs, const std::string& dir, const Segment& segment) {
  const uint64_t size = segment.size.load();
  MappedRegion map;
  if (Status s = segment.file->Map(size, MapMode::kPrivate, &map); !s.ok()) return s;
  HintBuilder builder;
  std::vector<DamagedRange> damage;
  ScanRecords(
      map.view(), [&](const RecordView& rec, uint64_t off) { builder.Add(rec, off); }, &damage);
  return WriteFileAtomic(fs, dir, HintFileName(segment.id), builder.Finish(segment.id, size));
}

}  // namespace httpkv::storage
