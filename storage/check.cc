#include "storage/check.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "storage/compaction.h"
#include "storage/dir_lock.h"
#include "storage/hint.h"
#include "storage/segment.h"

namespace httpkv::storage {
namespace {

Status OpenLocked(const std::string& dir, std::unique_ptr<DirLock>* lock) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("no data dir " + dir);
  }
  return DirLock::Acquire(dir, lock);
}

// Scans one segment; if out is non-null, copies every good record into it.
Status CheckSegment(FileSystem* fs, const std::string& dir, const Segment& seg, bool hint_present,
                    SegmentCheck* sc, std::string* good) {
  sc->id = seg.id;
  sc->name = seg.name;
  sc->size = seg.size.load();
  MappedRegion map;
  if (Status s = seg.file->Map(sc->size, MapMode::kPrivate, &map); !s.ok()) return s;
  const std::string_view data = map.view();
  ScanRecords(
      data,
      [&](const RecordView& rec, uint64_t off) {
        sc->records++;
        if (good != nullptr) good->append(data.substr(off, rec.header.record_size()));
      },
      &sc->damaged);
  sc->hint_present = hint_present;
  if (hint_present) {
    std::string hint;
    sc->hint_valid = ReadWholeFile(fs, dir + "/" + HintFileName(seg.id), &hint).ok() &&
                     ValidateHint(hint, seg.id, sc->size).ok();
  }
  return Status::OK();
}

Status RunCheck(FileSystem* fs, const std::string& dir, bool repair, CheckReport* report) {
  *report = CheckReport{};
  std::unique_ptr<DirLock> lock;
  if (Status s = OpenLocked(dir, &lock); !s.ok()) return s;
  if (repair) {
    if (Status s = ResolveCompactionLeftovers(fs, dir, &report->notes); !s.ok()) return s;
  }
  DirListing ls;
  if (Status s = ListDataDir(fs, dir, &ls); !s.ok()) return s;
  for (const std::string& t : ls.temps) report->notes.push_back("leftover temp file " + t);
  if (ls.compact_marker) report->notes.push_back("interrupted compaction pending (COMPACT)");
  bool damaged = false;
  for (uint32_t id : ls.segments) {
    std::shared_ptr<Segment> seg;
    if (Status s = OpenSegmentAt(fs, dir, id, /*writable=*/false, &seg); !s.ok()) return s;
    SegmentCheck sc;
    std::string good;
    const bool hint = std::binary_search(ls.hints.begin(), ls.hints.end(), id);
    if (Status s = CheckSegment(fs, dir, *seg, hint, &sc, repair ? &good : nullptr); !s.ok()) {
      return s;
    }
    report->records += sc.records;
    for (const DamagedRange& d : sc.damaged) report->damaged_bytes += d.length;
    if (hint && !sc.hint_valid) report->notes.push_back(HintFileName(id) + ": damaged or stale");
    if (repair && !sc.damaged.empty()) {
      // Good records only, in their original order (seqs stay increasing).
      if (Status s = WriteFileAtomic(fs, dir, seg->name, good); !s.ok()) return s;
      (void)fs->Unlink(dir + "/" + HintFileName(id));
      sc.hint_valid = false;
      sc.repaired = true;
      if (Status s = OpenSegmentAt(fs, dir, id, /*writable=*/false, &seg); !s.ok()) return s;
    }
    if (repair && hint && !sc.hint_valid) {
      // A sealed segment keeps a hint: without one, Open would take it for the active one.
      if (Status s = WriteHintForSegment(fs, dir, *seg); !s.ok()) return s;
      sc.repaired = true;
    }
    damaged = damaged || (!sc.damaged.empty() && !repair);
    report->segments.push_back(std::move(sc));
  }
  if (damaged) {
    return Status::Corruption(std::to_string(report->damaged_bytes) + " damaged bytes in " + dir);
  }
  return Status::OK();
}

}  // namespace

std::vector<std::string> CheckReport::Lines() const {
  std::vector<std::string> out;
  for (const SegmentCheck& sc : segments) {
    std::string line = sc.name + ": " + std::to_string(sc.records) + " records, " +
                       std::to_string(sc.size) + " bytes";
    if (sc.damaged.empty()) line += ", ok";
    if (sc.repaired) line += ", repaired";
    out.push_back(line);
    for (const DamagedRange& d : sc.damaged) out.push_back("  " + DamageWarning(sc.name, d));
  }
  for (const std::string& n : notes) out.push_back(n);
  return out;
}

Status CheckDataDir(const std::string& dir, CheckReport* report, FileSystem* fs) {
  return RunCheck(fs, dir, false, report);
}

Status RepairDataDir(const std::string& dir, CheckReport* report, FileSystem* fs) {
  return RunCheck(fs, dir, true, report);
}

}  // namespace httpkv::storage
