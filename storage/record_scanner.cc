#include "storage/record_scanner.h"

#include <sys/mman.h>

#include <cerrno>

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

uint64_t FindResync(std::string_view data, uint64_t bad, uint64_t min_seq) {
  // Most damage hits the payload and leaves the lengths intact: try the declared end first,
  // so a record-shaped value inside the damaged record is not mistaken for a real record.
  RecordHeader h;
  if (ParseHeader(data.data() + bad, data.size() - bad, &h) == DecodeStatus::kOk) {
    const uint64_t end = bad + h.record_size();
    // A sane header whose record runs past EOF is an interrupted append: everything after
    // it is its own partial payload, which may well contain record-shaped bytes. Torn tail.
    if (end > data.size()) return UINT64_MAX;
    if (end < data.size() && ValidAt(data, end, min_seq)) return end;
  }
  for (uint64_t off = bad + 1; off + kRecordHeaderSize <= data.size(); ++off) {
    if (ValidAt(data, off, min_seq)) return off;
  }
  return UINT64_MAX;
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
