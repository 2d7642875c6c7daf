// LogStore's segment set: loading it at Open, the active segment's lifecycle (creation from
// the preallocated spare, rollover and sealing) and the copy-on-write segment table that
// readers use without a lock (FORMAT.md "Segments", "Preallocation", "Reads").
#include <algorithm>
#include <utility>

#include "storage/hint.h"
#include "storage/log_store.h"

namespace httpkv::storage {

// Applies every segment in id order. The active segment is the newest one without a hint
// file (sealed segments and compaction outputs always get one); none -> start a new one.
Status LogStore::LoadSegments() {
  DirListing ls;
  if (Status s = ListDataDir(&fs_, opts_.dir, &ls); !s.ok()) return s;
  auto has_hint = [&](uint32_t id) {
    return std::binary_search(ls.hints.begin(), ls.hints.end(), id);
  };
  std::optional<uint32_t> active_id;
  for (uint32_t id : ls.segments) {
    if (!has_hint(id)) active_id = id;
  }
  RecoveryState state;
  // Fill the hash table only; the key order is built with one sort at the end (on every
  // return: a failed Open drops the index anyway).
  struct BulkLoad {
    KeyIndex* index;
    explicit BulkLoad(KeyIndex* i) : index(i) { index->BeginBulkLoad(); }
    ~BulkLoad() { index->EndBulkLoad(); }
  } bulk_load(&index_);
  std::string hint;
  struct SeqRange {
    uint64_t first, last, gap_top;
  };
  std::vector<SeqRange> ranges;
  auto table = std::make_unique<SegmentTable>();
  for (uint32_t id : ls.segments) {
    const bool active = active_id == id;
    std::shared_ptr<Segment> seg;
    if (Status s = OpenSegmentFile(id, active, &seg); !s.ok()) return s;
    const uint64_t file_size = seg->size.load();
    hint.clear();
    if (!active && has_hint(id)) {
      Status s = ReadWholeFile(&fs_, PathOf(HintFileName(id)), &hint);
      if (s.ok()) s = ValidateHint(hint, id, file_size);
      if (!s.ok()) {
        recovery_.warnings.push_back(HintFileName(id) + ": " + s.ToString() + "; scanning " +
                                     seg->name + " instead");
        hint.clear();
      }
    }
    seg->has_hint = !hint.empty();
    if (!active && hint.empty()) {  // the maintenance thread writes it
      MutexLock lock(&maint_mu_);
      hints_wanted_ = true;
      CountRequest();
    }
    uint64_t end = 0;
    if (Status s = RecoverSegment(*seg, hint, active, &index_, &state, &recovery_, &end); !s.ok()) {
      return s;
    }
    if (!active && end < file_size) {
      // A sealed segment with a zero tail: a crash came between rollover and its truncation.
      // (Sealed segments are open read-only: cut it through a writable handle.)
      std::unique_ptr<File> rw;
      Status s = fs_.Open(PathOf(seg->name), OpenMode::kReadWrite, &rw);
      if (s.ok()) s = rw->Truncate(end);
      if (s.ok()) s = rw->Sync();
      if (!s.ok()) return s;
    }
    seg->size = end;
    seg->first_seq = state.seg_first;
    seg->last_seq = state.seg_last;
    if (state.seg_first != 0)
      ranges.push_back({state.seg_first, state.seg_last, state.seg_gap_top});
    // The active segment is mapped whole: appends land inside the mapping.
    const uint64_t capacity = active ? std::max(opts_.segment_bytes, file_size) : end;
    if (Status s = active ? seg->MapForAppend(capacity) : seg->Map(capacity); !s.ok()) return s;
    disk_bytes_ += end;
    if (active) {
      active_ = seg;
      end_offset_ = end;
      active_capacity_ = capacity;
      active_has_dead_ = end > 0;  // unknown: let an explicit compaction seal it
    }
    table->segments.push_back(std::move(seg));
  }
  index_.EndBulkLoad();
  table_.store(table.release());
  next_segment_id_ = ls.segments.empty() ? 1 : ls.segments.back() + 1;
  for (uint32_t id : ls.hints) {  // hints whose segment is gone (e.g. removed by hand)
    if (TableLocked().Find(id) == nullptr) (void)fs_.Unlink(PathOf(HintFileName(id)));
  }
  if (!active_) {
    if (Status s = CreateActiveSegment(next_segment_id_++, opts_.segment_bytes); !s.ok()) {
      return s;
    }
  }
  recovery_.live_keys = index_.size();
  // Seqs are dense (one per append), so a missing one was dropped by compaction (or lost
  // to damage): history is complete only after the largest missing seq. The FEED file
  // keeps what compaction knew, including seqs past every remaining record.
  uint64_t horizon = 0, saved_last = 0;
  if (Status s = LoadFeedState(&horizon, &saved_last); !s.ok()) return s;
  std::sort(ranges.begin(), ranges.end(),
            [](const SeqRange& a, const SeqRange& b) { return a.first < b.first; });
  uint64_t prev_last = 0;
  for (const SeqRange& r : ranges) {
    if (r.first > prev_last + 1) horizon = std::max(horizon, r.first - 1);
    horizon = std::max(horizon, r.gap_top);
    prev_last = std::max(prev_last, r.last);
  }
  const uint64_t last = std::max(state.max_seq, saved_last);
  horizon_ = std::min(horizon, last);
  last_seq_ = last;
  durable_seq_ = last;
  next_seq_ = last + 1;
  QueueRecoveredExpiries(state.expiring);
  live_bytes_ = state.live_bytes;
  return Status::OK();
}

// Creates and installs a new empty active segment (caller holds write_mu_ or is Open): the
// spare when it is ready and large enough (renamed into place), else an empty file that
// appends grow. Either way it is mapped at `capacity` before readers can see it.
Status LogStore::CreateActiveSegment(uint32_t id, uint64_t capacity) {
  const std::string path = PathOf(SegmentFileName(id));
  std::unique_ptr<File> file;
  {
    MutexLock lock(&spare_mu_);
    if (spare_ != nullptr && capacity <= opts_.segment_bytes) {
      const std::string spare = PathOf(kSpareSegment);
      if (fs_.Rename(spare, path).ok()) {
        file = std::move(spare_);
      } else {
        spare_.reset();
        (void)fs_.Unlink(spare);
      }
    }
  }
  if (file == nullptr) {
    if (Status s = fs_.Open(path, OpenMode::kCreateExclusive, &file); !s.ok()) return s;
  }
  auto seg = std::make_shared<Segment>(id, std::move(file), 0);
  // Make the new file's directory entry durable, or a crash could lose the whole segment.
  Status s = fs_.SyncDir(opts_.dir);
  if (s.ok()) s = seg->MapForAppend(capacity);
  if (!s.ok()) {
    (void)fs_.Unlink(path);
    return s;
  }
  const SegmentTable* cur = table_.load();
  PublishTableLocked(cur != nullptr ? cur->With(seg) : SegmentTable{}.With(seg));
  active_ = std::move(seg);
  end_offset_ = 0;
  active_capacity_ = capacity;
  active_has_dead_ = false;
  return Status::OK();
}

void LogStore::PublishTableLocked(std::unique_ptr<SegmentTable> t) {
  const SegmentTable* old = table_.exchange(t.release());
  if (old == nullptr) return;
  retired_.emplace_back(old);
  {
    MutexLock lock(&maint_mu_);
    reclaim_wanted_ = true;
    CountRequest();
  }
  maint_cv_.Signal();
}

// Readers that could still see a retired table have left once Synchronize returns.
void LogStore::FreeRetiredTables() {
  std::vector<std::unique_ptr<const SegmentTable>> old;
  {
    MutexLock lock(&write_mu_);
    old.swap(retired_);
  }
  if (old.empty()) return;
  Epoch::Synchronize();
  old.clear();  // drops the last reference to segments compaction removed
}

// Seals the active segment — cut to the end of its records (its zero tail is free space no
// longer needed; hints, --check and compaction see the real size) and fdatasynced, so every
// sealed segment is durable and a sync token only ever depends on the active one — and
// starts the next. The hint file for the sealed segment and a compaction check are left to
// the maintenance thread. Readers keep using the sealed segment's mapping: they never read
// past the end of its records.
Status LogStore::RollOverLocked(uint64_t need) {
  active_->SealMapping();
  if (Status s = active_->file->Truncate(end_offset_); !s.ok()) return s;
  if (Status s = SyncLockedSegment(*active_, log_pos_.load(), appends_.load(), last_seq_.load());
      !s.ok()) {
    return s;
  }
  const uint64_t capacity = std::max(opts_.segment_bytes, need);
  if (Status s = CreateActiveSegment(next_segment_id_.fetch_add(1), capacity); !s.ok()) return s;
  {
    MutexLock lock(&maint_mu_);
    hints_wanted_ = true;
    CountRequest();
  }
  maint_cv_.Signal();
  MaybeRequestCompaction(0);
  return Status::OK();
}

void LogStore::MaybeRequestCompaction(uint64_t min_dead) {
  if (opts_.compact_dead_ratio >= 1.0 || compact_pending_.load(std::memory_order_relaxed)) return;
  const uint64_t disk = disk_bytes_.load(std::memory_order_relaxed);
  const uint64_t dead = disk - std::min(disk, live_bytes_.load(std::memory_order_relaxed));
  if (disk == 0 || dead < min_dead ||
      static_cast<double>(dead) <= opts_.compact_dead_ratio * static_cast<double>(disk)) {
    return;
  }
  compact_pending_.store(true, std::memory_order_relaxed);
  RequestCompaction();
}

}  // namespace httpkv::storage
