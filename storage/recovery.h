// Recovery: rebuilds the KeyIndex from the segments of a data dir at Open.
//
// Segments are applied in id order, each either from its hint file (when valid) or by scanning
// it (damage rules: storage/record_scanner.h). A record changes a key only if its seq is larger
// than every record already seen for that key (tombstones included), so the result does not
// depend on the order segments are applied in — compaction outputs carry old seqs under new
// ids. A torn tail is truncated off only in the active segment. Open applies every segment
// inside one KeyIndex bulk load (storage/key_index.h): only the hash table is filled, and the
// key order is built with one sort at the end; the rules above only read the hash table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/key_index.h"
#include "storage/segment.h"
#include "storage/status.h"

namespace httpkv::storage {

struct RecoveryReport {
  uint64_t records = 0;                // valid records (or hint entries) applied
  uint64_t live_keys = 0;              // keys in the index afterwards
  uint64_t bytes_scanned = 0;          // segment bytes examined (hint-loaded segments excluded)
  uint64_t torn_tail_bytes = 0;        // bytes truncated from the end
  uint64_t corrupt_bytes_skipped = 0;  // bytes skipped mid-file (left on disk)
  uint64_t segments = 0;               // segments loaded
  uint64_t segments_from_hints = 0;    // of which via their hint file
  uint64_t hint_bytes = 0;             // hint file bytes read
  double seconds = 0;
  // One line each, e.g. "00000001.log: torn tail at offset 4096, dropped 17 bytes".
  std::vector<std::string> warnings;
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// State carried across segments.
struct RecoveryState {
  uint64_t max_seq = 0;     // highest seq seen in any valid record
  uint64_t live_bytes = 0;  // sum of record sizes of live index entries
  // Seq of the newest tombstone per deleted key, so an older put met later cannot revive it.
  std::unordered_map<std::string, uint64_t, TransparentHash, std::equal_to<>> tombstones;
  // Of the segment last applied: its first and last record seq (0: none) and the largest
  // seq missing between two of its records (0: none), for the change feed's horizon.
  uint64_t seg_first = 0, seg_last = 0, seg_gap_top = 0;
  // (key, seq) of every expiring put applied; those still live are queued for expiry.
  std::vector<std::pair<std::string, uint64_t>> expiring;
};

// Applies segment to index: from hint (already validated) when non-empty, else by scanning.
// When scanning the active segment a torn tail is truncated. Sets *end_offset to the end of
// the valid records (before any zero tail, which is free space); for a sealed segment with
// a damaged tail, to its file size.
Status RecoverSegment(const Segment& segment, std::string_view hint, bool active, KeyIndex* index,
                      RecoveryState* state, RecoveryReport* report, uint64_t* end_offset);

}  // namespace httpkv::storage
