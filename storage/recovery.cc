#include "storage/recovery.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "storage/record.h"

namespace httpkv::storage {
namespace {

constexpr uint64_t kNone = UINT64_MAX;

std::string ErrnoMessage(std::string_view what, const std::string& name, int err) {
  return std::string(what) + " " + name + ": " + std::strerror(err);
}

// A resync candidate must decode, verify, and continue the seq order (records are appended
// with increasing seq), which rejects most stale records embedded inside damaged values.
bool ValidAt(std::string_view data, uint64_t off, uint64_t min_seq) {
  RecordView rec;
  return DecodeRecord(data.substr(off), &rec) == DecodeStatus::kOk && rec.header.seq >= min_seq;
}

// Offset of the first valid record after the damaged one at `bad`, or kNone.
uint64_t FindResync(std::string_view data, uint64_t bad, uint64_t min_seq) {
  // Most damage hits the payload and leaves the lengths intact: try the declared end first,
  // so a record-shaped value inside the damaged record is not mistaken for a real record.
  RecordHeader h;
  if (ParseHeader(data.data() + bad, data.size() - bad, &h) == DecodeStatus::kOk) {
    const uint64_t end = bad + h.record_size();
    // A sane header whose record runs past EOF is an interrupted append: everything after
    // it is its own partial payload, which may well contain record-shaped bytes. Torn tail.
    if (end > data.size()) return kNone;
    if (end < data.size() && ValidAt(data, end, min_seq)) return end;
  }
  for (uint64_t off = bad + 1; off + kRecordHeaderSize <= data.size(); ++off) {
    if (ValidAt(data, off, min_seq)) return off;
  }
  return kNone;
}

void Apply(const RecordView& rec, uint32_t segment_id, uint64_t offset, KeyIndex* index,
           RecoveryState* state) {
  const RecordHeader& h = rec.header;
  IndexEntry prev;
  bool existed;
  if (h.type == RecordType::kPut) {
    existed = index->Upsert(rec.key, IndexEntry{segment_id, h.value_len, offset, h.seq}, &prev);
    state->live_bytes += h.record_size();
  } else {
    existed = index->Erase(rec.key, &prev);
  }
  if (existed) state->live_bytes -= RecordSize(rec.key.size(), prev.value_size);
  if (h.seq > state->max_seq) state->max_seq = h.seq;
}

// Walks the mapped file; returns the offset where the valid log ends (== size unless torn).
uint64_t ScanMapped(std::string_view data, uint32_t segment_id, const std::string& name,
                    KeyIndex* index, RecoveryState* state, RecoveryReport* report) {
  uint64_t off = 0;
  uint64_t last_seq = 0;
  while (off < data.size()) {
    RecordView rec;
    if (DecodeRecord(data.substr(off), &rec) == DecodeStatus::kOk) {
      Apply(rec, segment_id, off, index, state);
      report->records++;
      last_seq = rec.header.seq;
      off += rec.header.record_size();
      continue;
    }
    const uint64_t next = FindResync(data, off, last_seq + 1);
    if (next == kNone) {
      const uint64_t dropped = data.size() - off;
      report->torn_tail_bytes += dropped;
      report->warnings.push_back(name + ": torn tail at offset " + std::to_string(off) +
                                 ", dropped " + std::to_string(dropped) + " bytes");
      return off;
    }
    report->corrupt_bytes_skipped += next - off;
    report->warnings.push_back(name + ": corrupt record at offset " + std::to_string(off) +
                               ", skipped " + std::to_string(next - off) + " bytes");
    off = next;
  }
  return off;
}

}  // namespace

Status RecoverSegment(int fd, uint32_t segment_id, const std::string& name, KeyIndex* index,
                      RecoveryState* state, RecoveryReport* report, uint64_t* end_offset) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::IOError(ErrnoMessage("cannot stat", name, errno));
  const auto size = static_cast<uint64_t>(st.st_size);
  report->bytes_scanned += size;
  *end_offset = 0;
  if (size == 0) return Status::OK();

  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return Status::IOError(ErrnoMessage("cannot mmap", name, errno));
  madvise(map, size, MADV_SEQUENTIAL);
  std::string_view data(static_cast<const char*>(map), size);
  const uint64_t end = ScanMapped(data, segment_id, name, index, state, report);
  munmap(map, size);

  if (end < size) {
    // Cut the torn tail so new appends follow the last good record.
    if (ftruncate(fd, static_cast<off_t>(end)) != 0 || fdatasync(fd) != 0) {
      return Status::IOError(ErrnoMessage("cannot truncate torn tail of", name, errno));
    }
  }
  *end_offset = end;
  return Status::OK();
}

}  // namespace httpkv::storage
