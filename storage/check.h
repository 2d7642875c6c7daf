// Offline verification and repair of a data directory (httpkv-server --check / --repair).
// Both take the dir lock, so they refuse (Busy) to run while a server owns the directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/record_scanner.h"
#include "storage/status.h"

namespace httpkv::storage {

struct SegmentCheck {
  uint32_t id = 0;
  std::string name;  // "NNNNNNNN.log"
  uint64_t size = 0;
  uint64_t records = 0;               // valid records
  std::vector<DamagedRange> damaged;  // torn tail / corrupt ranges, in file order
  bool hint_present = false;
  bool hint_valid = false;  // present and matching the segment
  bool repaired = false;    // RepairDataDir rewrote this segment (or its hint)
};

struct CheckReport {
  std::vector<SegmentCheck> segments;
  uint64_t records = 0;
  uint64_t damaged_bytes = 0;
  // Non-damage findings: stale/damaged hints, leftover temp files, pending compaction.
  std::vector<std::string> notes;
  // Human-readable, one line per finding (for the CLI).
  std::vector<std::string> Lines() const;
};

// Verifies every record of every segment, read-only. Corruption if any segment is damaged
// (report lists the ranges), Busy if the dir is in use, OK otherwise.
// fs: where the files are read and written (tests pass a fault-injecting one).
Status CheckDataDir(const std::string& dir, CheckReport* report,
                    FileSystem* fs = FileSystem::Default());

// Finishes/discards an interrupted compaction, rewrites each damaged segment keeping every
// good record (temp file + fsync + rename), and rewrites damaged or stale hints. The report
// describes what was found and repaired. OK when the directory is consistent afterwards.
Status RepairDataDir(const std::string& dir, CheckReport* report,
                     FileSystem* fs = FileSystem::Default());

}  // namespace httpkv::storage
