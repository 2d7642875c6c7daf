// LogStore maintenance: hint files for sealed segments and compaction (protocol and crash
// rules: storage/FORMAT.md, "Compaction").
#include <algorithm>
#include <memory>
#include <utility>

#include "storage/compaction.h"
#include "storage/hint.h"
#include "storage/log_store.h"
#include "storage/record_scanner.h"

namespace httpkv::storage {
namespace {

struct Input {
  std::shared_ptr<Segment> seg;
  MappedRegion map;
  uint64_t first_seq = UINT64_MAX;
};

// Every segment holds records in increasing seq order and segments cover disjoint seq
// ranges, so taking inputs by their first seq writes outputs in seq order too.
uint64_t FirstSeq(std::string_view data) {
  RecordView rec;
  std::vector<DamagedRange> damage;
  uint64_t first = UINT64_MAX;
  if (DecodeRecord(data, &rec) == DecodeStatus::kOk) return rec.header.seq;
  ScanRecords(
      data, [&](const RecordView& r, uint64_t) { first = std::min(first, r.header.seq); }, &damage);
  return first;
}

}  // namespace

Status LogStore::Compact() {
  MutexLock lock(&compact_mu_);
  return CompactLocked();
}

void LogStore::RequestCompaction() {
  {
    MutexLock lock(&maint_mu_);
    compact_requested_ = true;
    CountRequest();
  }
  maint_cv_.Signal();
}

void LogStore::MaintenanceLoop() {
  MutexLock lock(&maint_mu_);
  while (true) {
    if (maint_busy_) {
      maint_busy_ = false;
      maint_idle_cv_.SignalAll();
    }
    while (
        !(maint_stop_ || compact_requested_ || hints_wanted_ || spare_wanted_ || reclaim_wanted_)) {
      maint_cv_.Wait(&maint_mu_);
    }
    if (maint_stop_) return;
    maint_busy_ = true;
    const bool compact = std::exchange(compact_requested_, false);
    const bool spare = std::exchange(spare_wanted_, false);
    hints_wanted_ = false;
    reclaim_wanted_ = false;
    lock.Unlock();
    FreeRetiredTables();
    {
      MutexLock clock(&compact_mu_);
      WriteMissingHints();
    }
    if (spare) PrepareSpare();  // before compaction: the next rollover may be close
    if (compact) {
      MutexLock clock(&compact_mu_);
      (void)CompactLocked();  // failures are retried on the next request
    }
    FreeRetiredTables();
    lock.Lock();
  }
}

// Zero-fills DIR/spare.log.tmp to segment_bytes and fdatasyncs it: written extents, so
// that once it is the active segment an fdatasync after an append flushes data only (no
// size change, no extent conversion). A rollover that finds no spare creates an empty file.
void LogStore::PrepareSpare() {
  {
    MutexLock lock(&spare_mu_);
    if (spare_ != nullptr) return;
  }
  static const char kZeros[1 << 16] = {};
  const std::string path = PathOf(kSpareSegment);
  std::unique_ptr<File> file;
  Status s = fs_.Open(path, OpenMode::kCreate, &file);
  if (!s.ok()) return;
  for (uint64_t off = 0; s.ok() && off < opts_.segment_bytes; off += sizeof(kZeros)) {
    if (closing_.load(std::memory_order_relaxed)) s = Status::Busy("closing");
    const uint64_t n = std::min<uint64_t>(sizeof(kZeros), opts_.segment_bytes - off);
    if (s.ok()) s = file->Pwrite(off, std::string_view(kZeros, n));
  }
  if (s.ok()) s = file->Sync();
  if (!s.ok()) {
    file.reset();
    (void)fs_.Unlink(path);
    return;
  }
  MutexLock lock(&spare_mu_);
  spare_ = std::move(file);
  spares_prepared_.fetch_add(1);
}

void LogStore::DropSpare() {
  MutexLock lock(&spare_mu_);
  if (spare_ == nullptr) return;
  spare_.reset();
  (void)fs_.Unlink(PathOf(kSpareSegment));
}

void LogStore::StopMaintenance() {
  closing_ = true;
  if (!maint_.joinable()) return;
  {
    MutexLock lock(&maint_mu_);
    maint_stop_ = true;
  }
  maint_cv_.SignalAll();
  maint_.join();
}

// Sealed segments without a valid hint (just rolled over, or found so at Open).
void LogStore::WriteMissingHints() {
  std::vector<std::shared_ptr<Segment>> todo;
  {
    MutexLock wlock(&write_mu_);
    for (const auto& seg : TableLocked().segments) {
      if (seg != active_ && !seg->has_hint.load()) todo.push_back(seg);
    }
  }
  for (const auto& seg : todo) {
    if (closing_.load()) return;
    // A segment found sealed at Open may never have been synced; the hint must not be
    // durable before the records it describes.
    if (!seg->file->Sync().ok()) continue;
    if (WriteHintForSegment(&fs_, opts_.dir, *seg).ok()) seg->has_hint = true;
  }
}

// Steps (tests stop a compaction at each of them by failing the file operation there,
// tests/storage/compaction_test.cc):
//   0 the active segment sealed (rolled over), when it holds dead bytes
//   1 outputs NNNNNNNN.log.tmp written + fdatasynced   2 their .hint.tmp written + synced
//   3 COMPACT marker committed (tmp + rename + dir fsync) — the commit point
//   4 first output renamed      5 all outputs + hints renamed, dir fsynced
//   6 outputs installed, index entries moved (compare-and-swap by version)
//   7 first input unlinked      8 all inputs unlinked, dir fsynced      9 marker removed
Status LogStore::CompactLocked() {
  if (compaction_broken_) {
    return Status::IOError("an earlier compaction failed after its commit; reopen the store");
  }
  // Writes meanwhile must not queue another compaction of the same segments.
  compact_pending_.store(true);
  struct PendingReset {
    std::atomic<bool>* flag;
    ~PendingReset() { flag->store(false); }
  } pending_reset{&compact_pending_};
  std::vector<Input> inputs;
  {
    MutexLock wlock(&write_mu_);
    // Dead bytes in the active segment are reclaimed too: seal it, so it is an input.
    if (active_has_dead_ && end_offset_ > 0) {
      if (Status s = RollOverLocked(0); !s.ok()) return s;
    }
    for (const auto& seg : TableLocked().segments) {
      if (seg != active_) inputs.push_back(Input{seg, {}, UINT64_MAX});
    }
  }
  if (inputs.empty()) return Status::OK();
  for (Input& in : inputs) {
    Status s = in.seg->file->Map(in.seg->size.load(), MapMode::kPrivate, &in.map);
    if (!s.ok()) return s;
    in.first_seq = FirstSeq(in.map.view());
  }
  std::sort(inputs.begin(), inputs.end(),
            [](const Input& a, const Input& b) { return a.first_seq < b.first_seq; });

  CompactionWriter writer(&fs_, opts_.dir, opts_.segment_bytes,
                          [this] { return next_segment_id_.fetch_add(1); });
  Status s;
  uint64_t dropped_max = 0;  // the change feed's history ends here (FORMAT.md "Change feed")
  for (Input& in : inputs) {
    std::vector<DamagedRange> damage;
    const std::string_view data = in.map.view();
    ScanRecords(
        data,
        [&](const RecordView& rec, uint64_t off) {
          IndexEntry e;
          if (!s.ok() || closing_.load(std::memory_order_relaxed)) return;
          if (!IsPut(rec.header.type) || !index_.Find(rec.key, &e) || e.version != rec.header.seq) {
            dropped_max = std::max(dropped_max, rec.header.seq);
            return;  // overwritten, deleted, or a tombstone: dropped
          }
          s = writer.Add(data.substr(off, rec.header.record_size()), rec);
        },
        &damage);
    if (s.ok() && closing_.load()) s = Status::Busy("store is closing");
    if (!s.ok()) break;
  }
  if (s.ok()) s = writer.FinishData();
  if (s.ok()) s = writer.WriteHints();
  // Before the commit and before readers can see an output: the feed must never claim a
  // history that is gone. A compaction that fails after this only leaves it conservative.
  if (s.ok() && dropped_max > horizon_.load()) {
    s = SaveFeedState(dropped_max, LastSeq());
    if (s.ok()) horizon_.store(dropped_max);
  }
  CompactionPlan plan;
  for (const Input& in : inputs) plan.inputs.push_back(in.seg->id);
  for (const auto& o : writer.outputs()) plan.outputs.push_back(o.id);
  if (s.ok())
    s = WriteFileAtomic(&fs_, opts_.dir, std::string(kCompactMarker), EncodeCompactMarker(plan));
  if (!s.ok()) {
    writer.RemoveTemps();
    return s;
  }
  std::vector<std::shared_ptr<Segment>> segs;
  segs.reserve(inputs.size());
  for (const Input& in : inputs) segs.push_back(in.seg);
  s = InstallCompaction(segs, &writer);
  // Committed but not finished: Open rolls it forward. Until then a new compaction must not
  // overwrite the marker.
  if (!s.ok()) compaction_broken_ = true;
  return s;
}

Status LogStore::InstallCompaction(const std::vector<std::shared_ptr<Segment>>& inputs,
                                   CompactionWriter* writer) {
  auto& outputs = writer->outputs();
  for (const auto& o : outputs) {
    for (const std::string& name : {SegmentFileName(o.id), HintFileName(o.id)}) {
      const std::string to = PathOf(name);
      if (Status s = fs_.Rename(to + std::string(kTempSuffix), to); !s.ok()) return s;
    }
  }
  if (Status s = fs_.SyncDir(opts_.dir); !s.ok()) return s;

  // Readers must find the outputs before any index entry points at them.
  uint64_t out_bytes = 0, in_bytes = 0;
  std::vector<std::shared_ptr<Segment>> installed;
  for (auto& o : outputs) {
    auto seg = std::make_shared<Segment>(o.id, std::move(o.file), o.size);
    seg->has_hint = true;
    seg->first_seq = o.first_seq;
    seg->last_seq = o.last_seq;
    if (Status s = seg->Map(o.size); !s.ok()) return s;
    installed.push_back(std::move(seg));
    out_bytes += o.size;
  }
  {
    MutexLock wlock(&write_mu_);
    auto table = std::make_unique<SegmentTable>(TableLocked());
    for (auto& seg : installed) table = table->With(std::move(seg));
    PublishTableLocked(std::move(table));
  }
  disk_bytes_.fetch_add(out_bytes);
  for (const auto& o : outputs) {
    ForEachHintEntry(o.hint, [&](const HintEntry& e) {
      index_.UpdateLocation(e.key, e.seq, o.id, e.offset);  // a newer write wins
    });
  }

  // Readers still inside a read section keep using the inputs until the retired table is
  // freed after Epoch::Synchronize(); the unlinked inodes live as long as their fds.
  {
    std::vector<uint32_t> ids;
    for (const auto& in : inputs) {
      ids.push_back(in->id);
      in_bytes += in->size.load();
    }
    MutexLock wlock(&write_mu_);
    PublishTableLocked(TableLocked().Without(ids));
  }
  disk_bytes_.fetch_sub(in_bytes);
  // Oldest first (inputs are sorted by seq): a tombstone is never gone while an older put
  // it shadows is still on disk, even if the marker were lost.
  for (size_t i = 0; i < inputs.size(); ++i) {
    (void)fs_.Unlink(PathOf(HintFileName(inputs[i]->id)));
    if (Status s = fs_.Unlink(PathOf(inputs[i]->name)); !s.ok()) return s;
  }
  if (Status s = fs_.SyncDir(opts_.dir); !s.ok()) return s;
  if (Status s = fs_.Unlink(PathOf(kCompactMarker)); !s.ok()) return s;
  if (Status s = fs_.SyncDir(opts_.dir); !s.ok()) return s;
  compactions_.fetch_add(1);
  return Status::OK();
}

}  // namespace httpkv::storage
