#include "storage/discard.h"

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/feed_state.h"
#include "storage/record_scanner.h"
#include "storage/segment.h"
#include "storage/term_history.h"

namespace httpkv::storage {
namespace {

constexpr uint32_t kDiscardMagic = 0x444B5648;  // "HVKD" on disk
constexpr size_t kDiscardSize = 16;             // magic, keep_through, crc

Status ReadDiscard(FileSystem* fs, const std::string& dir, uint64_t* keep_through) {
  std::string data;
  if (Status s = ReadWholeFile(fs, dir + "/" + kDiscardFile, &data); !s.ok()) return s;
  if (data.size() != kDiscardSize || DecodeFixed32(data.data()) != kDiscardMagic ||
      Crc32c(data.data(), kDiscardSize - 4) != DecodeFixed32(data.data() + 12)) {
    // Written atomically: a damaged one was never a complete request. Safest: keep nothing
    // (the member takes a full copy from its primary).
    *keep_through = 0;
    return Status::OK();
  }
  *keep_through = DecodeFixed64(data.data() + 4);
  return Status::OK();
}

Status RemoveFile(FileSystem* fs, const std::string& path) {
  Status s = fs->Unlink(path);
  return s.IsNotFound() ? Status::OK() : s;
}

// Cuts one segment: deleted when its first record is past the cut, truncated at its first
// record past the cut otherwise (its hint goes: the maintenance thread writes a new one).
Status CutSegment(FileSystem* fs, const std::string& dir, uint32_t id, uint64_t keep_through,
                  std::vector<std::string>* notes) {
  const std::string name = SegmentFileName(id);
  const std::string path = dir + "/" + name;
  std::unique_ptr<File> file;
  if (Status s = fs->Open(path, OpenMode::kReadWrite, &file); !s.ok()) return s;
  uint64_t size = 0;
  if (Status s = file->Size(&size); !s.ok()) return s;
  uint64_t cut = UINT64_MAX;  // offset of the first record past keep_through
  uint64_t first_seq = 0;
  if (size > 0) {
    MappedRegion map;
    if (Status s = file->Map(size, MapMode::kPrivate, &map); !s.ok()) return s;
    std::vector<DamagedRange> damage;
    ScanRecords(
        map.view(),
        [&](const RecordView& rec, uint64_t off) {
          if (first_seq == 0) first_seq = rec.header.seq;
          if (rec.header.seq > keep_through && cut == UINT64_MAX) cut = off;
        },
        &damage);
  }
  if (cut == UINT64_MAX) return Status::OK();  // nothing past the cut here
  if (Status s = RemoveFile(fs, dir + "/" + HintFileName(id)); !s.ok()) return s;
  if (cut == 0 || first_seq > keep_through) {
    file.reset();
    notes->push_back("discard: removed " + name);
    return RemoveFile(fs, path);
  }
  Status s = file->Truncate(cut);
  if (s.ok()) s = file->Sync();
  if (s.ok()) notes->push_back("discard: cut " + name + " at offset " + std::to_string(cut));
  return s;
}

}  // namespace

Status RequestDiscard(FileSystem* fs, const std::string& dir, uint64_t keep_through) {
  std::string data;
  PutFixed32(&data, kDiscardMagic);
  PutFixed64(&data, keep_through);
  PutFixed32(&data, Crc32c(data.data(), data.size()));
  return WriteFileAtomic(fs, dir, kDiscardFile, data);
}

Status ApplyPendingDiscard(FileSystem* fs, const std::string& dir,
                           std::vector<std::string>* notes) {
  uint64_t keep = 0;
  Status s = ReadDiscard(fs, dir, &keep);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  FeedState feed;
  s = ReadFeedState(fs, dir, &feed);
  if (s.IsNotFound()) {
    s = Status::OK();
  } else if (s.IsCorruption()) {
    feed.last_seq = UINT64_MAX;  // unknown: assume a compaction ran after any cut point
    s = Status::OK();
  }
  if (!s.ok()) return s;
  const bool wipe = keep == 0 || feed.last_seq > keep;
  if (wipe) {
    notes->push_back("discard: keeping nothing (cut at seq " + std::to_string(keep) +
                     (keep == 0 ? ")" : ", before the last compaction)"));
    keep = 0;
  } else {
    notes->push_back("discard: keeping seqs up to " + std::to_string(keep));
  }
  DirListing ls;
  if (s = ListDataDir(fs, dir, &ls); !s.ok()) return s;
  for (uint32_t id : ls.segments) {
    if (s = CutSegment(fs, dir, id, keep, notes); !s.ok()) return s;
  }
  TermHistory history;
  if (s = LoadTermHistory(fs, dir, &history); !s.ok() && !s.IsCorruption()) return s;
  while (!history.empty() && history.back().first_seq > keep) history.pop_back();
  if (s = SaveTermHistory(fs, dir, history); !s.ok()) return s;
  if (wipe) {
    if (s = RemoveFile(fs, dir + "/" + kFeedStateFile); !s.ok()) return s;
  }
  if (s = fs->SyncDir(dir); !s.ok()) return s;
  if (s = RemoveFile(fs, dir + "/" + kDiscardFile); !s.ok()) return s;
  return fs->SyncDir(dir);
}

}  // namespace httpkv::storage
