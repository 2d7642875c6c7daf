// Walks the records of a segment image, applying the damage rules of storage/FORMAT.md:
// zeros from a record boundary to EOF are free space (a preallocated tail); a sane header
// whose record runs past EOF or into that zero tail is a torn tail; any other record that
// fails to decode is skipped up to the next offset holding a valid record with a larger seq
// (mid-file corruption), or, if there is none, everything from it on is a torn tail.
// Shared by recovery, hint writing, compaction and check/repair.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/record.h"
#include "storage/status.h"

namespace httpkv::storage {

struct DamagedRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool torn_tail = false;  // false: corrupt bytes skipped mid-file
};

// Length of data up to its last non-zero byte: [UsedLength, size) is all zeros.
uint64_t UsedLength(std::string_view data);

// Offset of the first valid record after the damaged one at `bad` (seq >= min_seq), or
// UINT64_MAX when the rest of data is a torn tail. used = UsedLength(data).
uint64_t FindResync(std::string_view data, uint64_t bad, uint64_t min_seq, uint64_t used);

// Length of the torn tail that starts at `bad`: up to the last non-zero byte, or to the end
// of the torn record if that is further (its declared end when its header is sane, else
// the end of a header; capped at EOF). The zero run after that is free space.
uint64_t TornLength(std::string_view data, uint64_t bad, uint64_t used);

// Calls visit(const RecordView&, uint64_t offset) for every valid record in file order and
// appends each damaged range to *damage. Returns the end of the valid log: the start of a
// torn tail, of the zero tail (preallocated free space, not damage), or data.size().
template <typename Visit>
uint64_t ScanRecords(std::string_view data, Visit&& visit, std::vector<DamagedRange>* damage) {
  const uint64_t used = UsedLength(data);
  uint64_t off = 0;
  uint64_t last_seq = 0;
  while (off < used) {  // at a record boundary with only zeros left: free space
    RecordView rec;
    if (DecodeRecord(data.substr(off), &rec) == DecodeStatus::kOk) {
      visit(rec, off);
      last_seq = rec.header.seq;
      off += rec.header.record_size();
      continue;
    }
    const uint64_t next = FindResync(data, off, last_seq + 1, used);
    if (next == UINT64_MAX) {
      damage->push_back({off, TornLength(data, off, used), true});
      return off;
    }
    damage->push_back({off, next - off, false});
    off = next;
  }
  return off;
}

// "00000001.log: torn tail at offset 4096, dropped 17 bytes" / "...corrupt record at ...".
std::string DamageWarning(const std::string& name, const DamagedRange& d);

}  // namespace httpkv::storage
