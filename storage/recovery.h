// Recovery: rebuilds the KeyIndex by scanning a segment file at Open.
//
// Rules (see storage/FORMAT.md): records are verified one by one. A sane header whose record
// runs past EOF is a torn tail. At any other record that does not decode (bad header or CRC
// mismatch) we look for the next offset holding a valid record. If one exists the damaged bytes
// are skipped (mid-file corruption, file untouched); if none exists the rest is a torn tail.
// A torn tail is truncated off so appends continue right after the last good record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/key_index.h"
#include "storage/status.h"

namespace httpkv::storage {

struct RecoveryReport {
  uint64_t records = 0;                // valid records applied
  uint64_t live_keys = 0;              // keys in the index afterwards
  uint64_t bytes_scanned = 0;          // file bytes examined
  uint64_t torn_tail_bytes = 0;        // bytes truncated from the end
  uint64_t corrupt_bytes_skipped = 0;  // bytes skipped mid-file (left on disk)
  double seconds = 0;
  // One line each, e.g. "00000001.log: torn tail at offset 4096, dropped 17 bytes".
  std::vector<std::string> warnings;
};

// State carried across segments (there is one segment for now).
struct RecoveryState {
  uint64_t max_seq = 0;     // highest seq seen in any valid record
  uint64_t live_bytes = 0;  // sum of record sizes of live index entries
};

// Scans the segment open on fd (read/write), applies its records to index, truncates a torn
// tail, and sets *end_offset to the length of the valid log (where appends continue).
Status RecoverSegment(int fd, uint32_t segment_id, const std::string& name, KeyIndex* index,
                      RecoveryState* state, RecoveryReport* report, uint64_t* end_offset);

}  // namespace httpkv::storage
