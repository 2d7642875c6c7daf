// Segment files and the small file helpers shared by the store, recovery, compaction and
// check/repair (file naming and crash rules: storage/FORMAT.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace httpkv::storage {

// "00000007.log", "00000007.hint".
std::string SegmentFileName(uint32_t id);
std::string HintFileName(uint32_t id);
// Id of a "NNNNNNNN.log" name, nullopt for anything else.
std::optional<uint32_t> ParseSegmentFileName(std::string_view name);

// Name of the compaction commit marker and the suffix of files not yet adopted.
inline constexpr std::string_view kCompactMarker = "COMPACT";
inline constexpr std::string_view kTempSuffix = ".tmp";
// The next active segment, zero-filled ahead of time (FORMAT.md "Preallocation"). A
// leftover one is deleted at Open like every other temp file.
inline constexpr std::string_view kSpareSegment = "spare.log.tmp";

// Writes DIR/name.tmp, syncs it, renames it to DIR/name and syncs the directory.
Status WriteFileAtomic(FileSystem* fs, const std::string& dir, const std::string& name,
                       std::string_view data);
// Whole-file read; NotFound if absent.
Status ReadWholeFile(FileSystem* fs, const std::string& path, std::string* out);

// A segment file, read through one read-only MAP_SHARED mapping made before the segment is
// published to readers and never changed afterwards. The active segment is mapped whole at
// its capacity (its preallocated size, see FORMAT.md "Preallocation"), so records appended
// later with pwrite are visible through the same mapping (the page cache is coherent on
// Linux); a sealed segment is mapped at its size. Readers reach segments through a
// SegmentTable; the file and mapping live until the last table (or compaction input)
// holding the segment is freed, even after compaction unlinked the file.
struct Segment {
  Segment(uint32_t id, std::unique_ptr<File> file, uint64_t size);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Maps the first `capacity` bytes (the file may be shorter: pages past its end must not be
  // touched until a pwrite put data there). Call once, before publishing the segment.
  Status Map(uint64_t capacity);
  // The active segment's variant: also maps it writable when the file already holds
  // `capacity` bytes (a zero-filled spare), so appends are a memcpy into the page cache
  // instead of a pwrite per record (FORMAT.md "Writing"). writable_end() is 0 otherwise.
  Status MapForAppend(uint64_t capacity);
  // Sealing: the segment is immutable from here on; the writable view is made read-only.
  void SealMapping();
  const char* map() const { return map_.data(); }
  uint64_t map_len() const { return map_.size(); }
  // Appends through the mapping may go up to here (0: use pwrite).
  uint64_t writable_end() const { return writable_end_; }
  // Copies data to offset through the mapping; requires offset + size <= writable_end().
  void WriteMapped(uint64_t offset, std::string_view data) {
    std::memcpy(map_.writable_data() + offset, data.data(), data.size());
  }

  const uint32_t id;
  const std::unique_ptr<File> file;
  const std::string name;      // "NNNNNNNN.log"
  std::atomic<uint64_t> size;  // end of the valid records (the file may hold a zero tail)
  std::atomic<bool> has_hint{false};
  // Seq of the first and the last record (0: none yet). Records within a segment are in
  // increasing seq order and segments hold disjoint seq ranges, so the change feed walks
  // segments by first_seq (storage/log_store_feed.cc). last_seq is stored (release) after
  // size, by the writer, for the active segment.
  std::atomic<uint64_t> first_seq{0};
  std::atomic<uint64_t> last_seq{0};

 private:
  MappedRegion map_;
  uint64_t writable_end_ = 0;
};

// Opens DIR/NNNNNNNN.log (read-only or read-write) and wraps it with its current size.
Status OpenSegmentAt(FileSystem* fs, const std::string& dir, uint32_t id, bool writable,
                     std::shared_ptr<Segment>* out);

// Immutable id -> segment table, published to readers through an atomic pointer and
// replaced as a whole (copy-on-write) when a segment is added or dropped. A replaced table
// is freed only after Epoch::Synchronize(), so a reader inside an Epoch::ReadGuard may use
// the table and the segments it holds without any lock or reference count.
struct SegmentTable {
  std::vector<std::shared_ptr<Segment>> segments;  // ascending id

  const Segment* Find(uint32_t id) const;
  // A copy with seg added (or replacing the segment with its id).
  std::unique_ptr<SegmentTable> With(std::shared_ptr<Segment> seg) const;
  // A copy without the segments whose ids are listed.
  std::unique_ptr<SegmentTable> Without(const std::vector<uint32_t>& ids) const;
};

// What a data directory holds, by file name.
struct DirListing {
  std::vector<uint32_t> segments;  // ascending
  std::vector<uint32_t> hints;     // ascending
  std::vector<std::string> temps;  // *.tmp leftovers
  bool compact_marker = false;
};
Status ListDataDir(FileSystem* fs, const std::string& dir, DirListing* out);

}  // namespace httpkv::storage
