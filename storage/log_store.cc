#include "storage/log_store.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "storage/compaction.h"
#include "storage/discard.h"
#include "storage/hint.h"
#include "storage/record.h"

namespace httpkv::storage {
namespace {

using Clock = std::chrono::steady_clock;

// A huge value grows the write buffer; give that memory back instead of keeping it forever.
constexpr size_t kMaxRetainedWriteBuffer = 8u << 20;
// See LogStore::GrowsEarlySpare.
constexpr uint64_t kEarlySpareBytes = 1u << 20;
constexpr uint64_t kEarlySpareMinCapacity = 8u << 20;
// Keys per index Collect: each page costs O(log keys + page) and holds the index's writer
// mutex only while it is copied.
constexpr size_t kScanPage = 256;
// A reader racing with compaction re-resolves through the index at most this many times.
constexpr int kMaxResolveAttempts = 64;

}  // namespace

std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  if (name == "always") return FsyncPolicy::kAlways;
  if (name == "everysec") return FsyncPolicy::kEverySec;
  if (name == "never") return FsyncPolicy::kNever;
  return std::nullopt;
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "unknown";
}

LogStore::LogStore(Options opts) : opts_(std::move(opts)) {}

Status LogStore::Open(const Options& opts, std::unique_ptr<LogStore>* out) {
  if (opts.dir.empty()) return Status::InvalidArgument("data dir must not be empty");
  if (opts.segment_bytes == 0) return Status::InvalidArgument("segment_bytes must be > 0");
  if (opts.fs == nullptr) return Status::InvalidArgument("no file system");
  if (Status s = opts.fs->CreateDir(opts.dir); !s.ok()) return s;

  std::unique_ptr<LogStore> store(new LogStore(opts));
  if (Status s = DirLock::Acquire(opts.dir, &store->lock_); !s.ok()) return s;
  std::vector<std::string> notes;
  if (Status s = ResolveCompactionLeftovers(&store->fs_, opts.dir, &notes); !s.ok()) return s;
  if (Status s = ApplyPendingDiscard(&store->fs_, opts.dir, &notes); !s.ok()) return s;
  // No other thread exists yet: the locks are taken for the analysis (and are uncontended).
  {
    MutexLock lock(&store->history_mu_);
    if (Status s = LoadTermHistory(&store->fs_, opts.dir, &store->history_); !s.ok()) {
      if (!s.IsCorruption()) return s;
      // Written atomically, so this is damage. It only names where terms began: a member
      // that lost it agrees with its primary on less and takes a copy of the rest.
      notes.push_back(std::string(kHistoryFile) + ": " + s.ToString() + "; starting without it");
      store->history_.clear();
    }
  }
  const auto start = Clock::now();
  {
    MutexLock lock(&store->write_mu_);
    if (Status s = store->LoadSegments(); !s.ok()) return s;
  }
  store->recovery_.warnings.insert(store->recovery_.warnings.begin(), notes.begin(), notes.end());
  store->recovery_.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  store->syncer_ = std::thread([s = store.get()] { s->SyncerLoop(); });
  store->maint_ = std::thread([s = store.get()] { s->MaintenanceLoop(); });
  store->expirer_ = std::thread([s = store.get()] { s->ExpiryLoop(); });
  *out = std::move(store);
  return Status::OK();
}

Status LogStore::OpenSegmentFile(uint32_t id, bool writable, std::shared_ptr<Segment>* out) {
  return OpenSegmentAt(&fs_, opts_.dir, id, writable, out);
}

LogStore::~LogStore() {
  StopExpiry();
  StopMaintenance();
  StopSyncer();
  if (active_) (void)SyncActive();  // every policy syncs on close; nobody to report to
  DropSpare();
  FreeRetiredTables();
  delete table_.exchange(nullptr);
}

Status LogStore::Put(std::string_view key, std::string_view value, Precondition pre,
                     uint64_t expected_version, WriteResult* result, uint64_t expires_at_ms) {
  if (Status s = ValidateKeyValue(key, value); !s.ok()) return s;
  WriteResult local;
  if (result == nullptr) result = &local;

  MutexLock lock(&write_mu_);
  IndexEntry old;
  bool in_index = false;
  const bool existed = FindLiveLocked(key, &old, &in_index);
  *result = WriteResult{existed, 0, 0};
  switch (pre) {
    case Precondition::kNone:
      break;
    case Precondition::kMustExist:
      if (!existed) return Status::NotFound();
      break;
    case Precondition::kMustNotExist:
      if (existed) return Status::PreconditionFailed("key exists");
      break;
    case Precondition::kVersionMatches:
      if (!existed || old.version != expected_version) {
        return Status::PreconditionFailed("version mismatch");
      }
      break;
  }

  const uint64_t seq = next_seq_;
  const bool expires = expires_at_ms != 0;
  EncodeRecord(expires ? RecordType::kPutExpiring : RecordType::kPut, seq, key, value, &write_buf_,
               expires_at_ms);
  uint64_t offset;
  if (Status s = AppendLocked(&offset); !s.ok()) return s;
  ++next_seq_;
  IndexEntry prev;
  index_.Upsert(key,
                IndexEntry{active_->id, static_cast<uint32_t>(value.size()), offset, seq, expires},
                &prev);
  if (in_index && old.segment == active_->id) active_has_dead_ = true;
  if (expires) QueueExpiry(key, seq, expires_at_ms);
  PublishSeqLocked(seq);
  // Unsigned wrap-around makes a single fetch_add of (new - old) exact.
  live_bytes_.fetch_add(RecordSize(key.size(), value.size()) + (expires ? kExpiryTrailerSize : 0) -
                        (in_index ? EntryRecordSize(key.size(), old) : 0));
  result->version = seq;
  result->sync_token = log_pos_.load(std::memory_order_relaxed);
  return AfterAppendLocked();
}

Status LogStore::Delete(std::string_view key, WriteResult* result) {
  if (Status s = ValidateKeyValue(key, {}); !s.ok()) return s;
  WriteResult local;
  if (result == nullptr) result = &local;

  MutexLock lock(&write_mu_);
  IndexEntry old;
  bool in_index = false;
  *result = WriteResult{FindLiveLocked(key, &old, &in_index), 0, 0};
  if (!result->existed) return Status::NotFound();  // an expired value: its expire record comes

  const uint64_t seq = next_seq_;
  EncodeRecord(RecordType::kDelete, seq, key, {}, &write_buf_);
  uint64_t offset;
  if (Status s = AppendLocked(&offset); !s.ok()) return s;
  ++next_seq_;
  index_.Erase(key, &old);
  active_has_dead_ = true;  // the tombstone itself is dead weight
  PublishSeqLocked(seq);
  live_bytes_.fetch_sub(EntryRecordSize(key.size(), old));
  result->version = seq;
  result->sync_token = log_pos_.load(std::memory_order_relaxed);
  return AfterAppendLocked();
}

// Writes write_buf_ at the end of the active segment, rolling over first if it would grow
// past its capacity (segment_bytes, or the size of a segment made for one larger record).
// On failure the file is cut back to its previous length so it never ends in a half record,
// and the store stays usable.
Status LogStore::AppendLocked(uint64_t* offset) {
  Segment& seg0 = *active_;
  if (tail_dirty_) {
    if (Status s = seg0.file->Truncate(end_offset_); !s.ok()) return s;
    tail_dirty_ = false;
  }
  if (end_offset_ + write_buf_.size() > active_capacity_ || SwitchToSpareEarly()) {
    if (Status s = RollOverLocked(write_buf_.size()); !s.ok()) return s;
  }
  Segment& seg = *active_;
  const uint64_t pos = end_offset_ + write_buf_.size();
  if (pos <= seg.writable_end()) {
    // Preallocated: the record goes into the page cache through the mapping, no syscall.
    // Readers see it only once size (below) and the index publish it.
    seg.WriteMapped(end_offset_, write_buf_);
  } else if (Status s = seg.file->Pwrite(end_offset_, write_buf_); !s.ok()) {
    // Part of the record may have landed: cut it off (or before the next append).
    if (!seg.file->Truncate(end_offset_).ok()) tail_dirty_ = true;
    return s;
  }
  *offset = end_offset_;
  disk_bytes_.fetch_add(pos - end_offset_, std::memory_order_relaxed);
  log_pos_.fetch_add(pos - end_offset_, std::memory_order_release);
  const bool half_full =
      (end_offset_ <= active_capacity_ / 2 && pos > active_capacity_ / 2) ||
      (GrowsEarlySpare(seg) && end_offset_ < kEarlySpareBytes && pos >= kEarlySpareBytes);
  end_offset_ = pos;
  seg.size.store(pos, std::memory_order_release);
  appends_.fetch_add(1, std::memory_order_relaxed);
  if (write_buf_.capacity() > kMaxRetainedWriteBuffer) std::string().swap(write_buf_);
  if (half_full) {  // zero-fill the next segment while this one fills up
    {
      MutexLock lock(&maint_mu_);
      spare_wanted_ = true;
      CountRequest();
    }
    maint_cv_.Signal();
  }
  return Status::OK();
}

// A large active segment that grows with pwrite (a fresh store: no spare was ready at Open)
// asks for a spare once it holds kEarlySpareBytes, and moves to it as soon as it is ready, so
// appends stop costing a pwrite each long before the first full segment. Small segments
// (tests, tiny stores) keep the plain rule: spare at half full, used at rollover.
bool LogStore::GrowsEarlySpare(const Segment& seg) const {
  return seg.writable_end() == 0 && active_capacity_ >= kEarlySpareMinCapacity;
}

bool LogStore::SwitchToSpareEarly() {
  if (end_offset_ == 0 || !GrowsEarlySpare(*active_)) return false;
  MutexLock lock(&spare_mu_);
  return spare_ != nullptr;
}

void LogStore::PublishSeqLocked(uint64_t seq) {
  Segment& seg = *active_;
  if (seg.first_seq.load(std::memory_order_relaxed) == 0) {
    seg.first_seq.store(seq, std::memory_order_release);
  }
  seg.last_seq.store(seq, std::memory_order_release);
  last_seq_.store(seq, std::memory_order_release);
}

Status LogStore::AfterAppendLocked() {
  // At least half a segment's worth of dead bytes, so a small store is not compacted (and
  // its active segment sealed) after every few overwrites.
  MaybeRequestCompaction(std::max<uint64_t>(opts_.segment_bytes / 2, 1));
  switch (opts_.fsync) {
    case FsyncPolicy::kAlways:
      if (opts_.group_commit) return Status::OK();  // the caller uses SyncAsync
      return SyncLockedSegment(*active_, log_pos_.load(std::memory_order_relaxed),
                               appends_.load(std::memory_order_relaxed),
                               last_seq_.load(std::memory_order_relaxed));
    case FsyncPolicy::kEverySec:
      unsynced_.store(true, std::memory_order_release);  // after the write, never before
      return Status::OK();
    case FsyncPolicy::kNever:
      return Status::OK();
  }
  return Status::OK();
}

// Every segment is read from its mapping, whatever it is. Everything the index claims
// (type, lengths, seq, key bytes) is checked along with the CRC. If compaction dropped e's
// segment meanwhile, the index entry has moved: re-read it and retry. NotFound if the key
// vanished in between.
Status LogStore::ResolveInReadSection(std::string_view key, IndexEntry* e, std::string_view* value,
                                      uint64_t* expires_at_ms) const {
  *expires_at_ms = 0;
  for (int attempt = 0; attempt < kMaxResolveAttempts; ++attempt) {
    const Segment* seg = table_.load()->Find(e->segment);
    if (seg == nullptr) {
      if (!index_.Find(key, e)) return Status::NotFound();
      continue;
    }
    const uint64_t record_len =
        kRecordHeaderSize + key.size() + e->value_size + (e->expires ? kExpiryTrailerSize : 0);
    const char* map = seg->map();
    // Within the records (never the active segment's unwritten pages past EOF, which would
    // fault), and within the mapping.
    const uint64_t limit = std::min(seg->map_len(), seg->size.load(std::memory_order_acquire));
    if (map != nullptr && e->offset <= limit && record_len <= limit - e->offset) {
      const char* rec = map + e->offset;
      RecordHeader h;
      const std::string_view disk_key(rec + kRecordHeaderSize, key.size());
      const std::string_view disk_value(rec + kRecordHeaderSize + key.size(), e->value_size);
      const RecordType want = e->expires ? RecordType::kPutExpiring : RecordType::kPut;
      if (ParseHeader(rec, kRecordHeaderSize, &h) == DecodeStatus::kOk && h.type == want &&
          h.key_len == key.size() && h.value_len == e->value_size && h.seq == e->version &&
          disk_key == key && RecordCrc(rec, h) == h.crc) {
        if (e->expires) {  // only keys with a TTL pay for this
          *expires_at_ms = RecordExpiry(rec, h);
          if (*expires_at_ms <= NowMs()) return Status::NotFound();
        }
        *value = disk_value;
        return Status::OK();
      }
    }
    return Status::Corruption(seg->name + ": record at offset " + std::to_string(e->offset) +
                              " failed verification");
  }
  return Status::Corruption("index points at missing segment " + SegmentFileName(e->segment));
}

Status LogStore::ReadResolved(std::string_view key, IndexEntry* e, std::string* value,
                              uint64_t* expires_at_ms) const {
  Epoch::ReadGuard guard;
  std::string_view view;
  Status s = ResolveInReadSection(key, e, &view, expires_at_ms);
  if (s.ok()) {
    value->assign(view);
  } else {
    value->clear();
  }
  return s;
}

Status LogStore::Get(std::string_view key, std::string* value, ValueMeta* meta) const {
  Status s = Read(key, [&](std::string_view v, const ValueMeta& m) {
    value->assign(v);
    if (meta != nullptr) *meta = m;
  });
  if (!s.ok()) value->clear();
  return s;
}

Status LogStore::Stat(std::string_view key, ValueMeta* meta) const {
  IndexEntry e;
  if (!index_.Find(key, &e)) return Status::NotFound();
  uint64_t expires_at = 0;
  if (e.expires) {
    Epoch::ReadGuard guard;
    std::string_view value;
    if (Status s = ResolveInReadSection(key, &e, &value, &expires_at); !s.ok()) return s;
  }
  if (meta != nullptr) *meta = ValueMeta{e.version, e.value_size, expires_at};
  return Status::OK();
}

Status LogStore::Scan(
    const ScanOptions& opts,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) const {
  return ScanWithExpiry(opts, [&fn](std::string_view key, std::string_view value, uint64_t) {
    return fn(key, value);
  });
}

Status LogStore::ScanWithExpiry(const ScanOptions& opts, const ScanExpiryFn& fn) const {
  std::vector<std::pair<std::string, IndexEntry>> page;
  std::string cursor(opts.after);
  std::string value;
  uint64_t expires_at = 0;
  size_t remaining = opts.limit;
  while (remaining > 0) {
    const size_t want = std::min(kScanPage, remaining);
    page.clear();
    index_.Collect(opts.prefix, cursor, want, &page);
    size_t emitted = 0;
    for (auto& [key, entry] : page) {
      Status s = ReadResolved(key, &entry, &value, &expires_at);
      if (s.IsNotFound()) continue;  // deleted since the page was taken
      if (!s.ok()) return s;
      ++emitted;
      if (!fn(key, value, expires_at)) return Status::OK();
    }
    if (page.size() < want) break;  // ran out of matching keys
    remaining -= emitted;
    cursor = std::move(page.back().first);
  }
  return Status::OK();
}

Stats LogStore::stats() const {
  Stats st;
  st.keys = index_.size();
  st.disk_bytes = disk_bytes_.load(std::memory_order_relaxed);
  st.live_bytes = live_bytes_.load(std::memory_order_relaxed);
  st.appends = appends_.load(std::memory_order_relaxed);
  st.fsyncs = sync_meter_.syncs.load(std::memory_order_relaxed);
  st.fsync_ns_total = sync_meter_.ns_total.load(std::memory_order_relaxed);
  st.fsync_errors = sync_meter_.errors.load(std::memory_order_relaxed);
  st.dead_bytes = st.disk_bytes - std::min(st.disk_bytes, st.live_bytes);
  st.compactions = compactions_.load(std::memory_order_relaxed);
  st.spares_prepared = spares_prepared_.load(std::memory_order_relaxed);
  st.fsync_latency_ns = sync_meter_.latency_ns.Snapshot();
  st.writes_per_fsync = writes_per_fsync_.Snapshot();
  st.last_seq = LastSeq();
  st.feed_seq = FeedSeq();
  st.seq_horizon = SeqHorizon();
  Epoch::ReadGuard guard;
  st.segments = table_.load()->segments.size();
  return st;
}

}  // namespace httpkv::storage
