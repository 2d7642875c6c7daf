#include "storage/record_scanner.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "storage/coding.h"
#include "storage/segment.h"

namespace httpkv::storage {
namespace {

// A resync candidate must decode, verify, and continue the seq order (records are appended
// with increasing seq), which rejects most stale records embedded inside damaged values.
bool ValidAt(std::string_view data, uint64_t off, uint64_t min_seq) {
  RecordView rec;
  return DecodeRecord(data.substr(off), &rec) == DecodeStatus::kOk && rec.header.seq >= min_seq;
}

}  // namespace

uint64_t UsedLength(std::string_view data) {
  const char* p = data.data();
  uint64_t n = data.size();
  while (n % 8 != 0 && p[n - 1] == 0) --n;
  if (n % 8 == 0) {
    while (n >= 8) {
      if (DecodeFixed64(p + n - 8) != 0) break;
      n -= 8;
    }
  }
  while (n > 0 && p[n - 1] == 0) --n;
  return n;
}

uint64_t FindResync(std::string_view data, uint64_t bad, uint64_t min_seq, uint64_t used) {
  // Most damage hits the payload and leaves the lengths intact: try the declared end first,
  // so a record-shaped value inside the damaged record is not mistaken for a real record.
  RecordHeader h;
  if (ParseHeader(data.data() + bad, data.size() - bad, &h) == DecodeStatus::kOk) {
    const uint64_t end = bad + h.record_size();
    // A sane header whose record runs past EOF, or into the zero tail, is an interrupted
    // append: everything after it is its own partial payload, which may well contain
    // record-shaped bytes. Torn tail.
    if (end >= used) return UINT64_MAX;
    if (ValidAt(data, end, min_seq)) return end;
  }
  // A valid record starts with its non-zero type byte before `used`.
  for (uint64_t off = bad + 1; off < used && off + kRecordHeaderSize <= data.size(); ++off) {
    if (ValidAt(data, off, min_seq)) return off;
  }
  return UINT64_MAX;
}

uint64_t TornLength(std::string_view data, uint64_t bad, uint64_t used) {
  // The torn record's own extent counts even where it ends in zero bytes: its declared
  // length when the header is sane, else at least a header's worth.
  RecordHeader h;
  uint64_t record_end = bad + kRecordHeaderSize;
  if (ParseHeader(data.data() + bad, data.size() - bad, &h) == DecodeStatus::kOk) {
    record_end = bad + h.record_size();
  }
  return std::max(used, std::min<uint64_t>(record_end, data.size())) - bad;
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) munmap(addr_, size_);
}

Status MappedFile::Map(int fd, uint64_t size, const std::string& name) {
  if (size == 0) return Status::OK();
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return ErrnoStatus("cannot mmap " + name, errno);
  madvise(p, size, MADV_SEQUENTIAL);
  addr_ = p;
  size_ = size;
  return Status::OK();
}

std::string DamageWarning(const std::string& name, const DamagedRange& d) {
  if (d.torn_tail) {
    return name + ": torn tail at offset " + std::to_string(d.offset) + ", dropped " +
           std::to_string(d.length) + " bytes";
  }
  return name + ": corrupt record at offset " + std::to_string(d.offset) + ", skipped " +
         std::to_string(d.length) + " bytes";
}

}  // namespace httpkv::storage
