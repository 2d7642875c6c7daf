// LogStore's change feed: sequence numbers, the history horizon and reading the log in seq
// order straight out of the segment mappings (FORMAT.md "Change feed").
//
// Every segment holds records in increasing seq order and segments hold disjoint seq ranges,
// so the log in seq order is: segments by first_seq, each in file order. A cursor names the
// segment and offset of the next record to look at; when compaction dropped that segment, or
// the cursor has just been made for an old seq, the segment is found again by seq and read
// from its start (records at or before the cursor are skipped, counted in the budget).
#include <algorithm>

#include "storage/feed_state.h"
#include "storage/log_store.h"

namespace httpkv::storage {
namespace {

// The segment holding the first record with seq > after: among segments with such records,
// the one with the smallest first_seq. nullptr when there is none yet.
const Segment* SegmentAfter(const SegmentTable& t, uint64_t after) {
  const Segment* best = nullptr;
  uint64_t best_first = UINT64_MAX;
  for (const auto& seg : t.segments) {
    if (seg->last_seq.load(std::memory_order_acquire) <= after) continue;
    const uint64_t first = seg->first_seq.load(std::memory_order_acquire);
    if (first < best_first) {
      best_first = first;
      best = seg.get();
    }
  }
  return best;
}

}  // namespace

void LogStore::TailCursor(FeedCursor* c) {
  MutexLock lock(&write_mu_);
  c->last_seq = last_seq_.load(std::memory_order_relaxed);
  c->segment = active_->id;
  c->offset = end_offset_;
}

// Visits the records with cursor->last_seq < seq <= upper in seq order (see the file
// comment): visit(const RecordHeader&, const char* rec) -> kNext, kStop (after this one)
// or kBad (the record failed verification). History is lost when compaction dropped records
// after max(cursor, floor).
template <class Visit>
FeedProgress LogStore::WalkLog(FeedCursor* c, uint64_t upper, uint64_t floor, size_t budget,
                               Visit&& visit) const {
  Epoch::ReadGuard guard;
  // The table before the horizon: compaction raises the horizon before it publishes outputs.
  const SegmentTable& table = *table_.load();
  size_t visited = 0;
  const Segment* seg = c->segment != 0 ? table.Find(c->segment) : nullptr;
  auto lost = [&] { return horizon_.load() > std::max(c->last_seq, floor); };
  while (c->last_seq < upper) {
    if (visited >= budget) return FeedProgress::kMore;
    if (seg == nullptr) {  // not positioned yet, or compaction dropped the segment
      if (lost()) return FeedProgress::kHistoryLost;
      seg = SegmentAfter(table, c->last_seq);
      if (seg == nullptr) return FeedProgress::kCaughtUp;
      c->segment = seg->id;
      c->offset = 0;
    }
    const uint64_t size = std::min(seg->map_len(), seg->size.load(std::memory_order_acquire));
    if (c->offset >= size) {
      const Segment* next = SegmentAfter(table, c->last_seq);
      if (next == nullptr || next == seg) return FeedProgress::kCaughtUp;
      if (lost()) return FeedProgress::kHistoryLost;
      seg = next;
      c->segment = seg->id;
      c->offset = 0;
      continue;
    }
    const char* rec = seg->map() + c->offset;
    RecordHeader h;
    if (ParseHeader(rec, size - c->offset, &h) != DecodeStatus::kOk ||
        h.record_size() > size - c->offset) {
      return FeedProgress::kCorrupt;
    }
    if (h.seq > upper) return FeedProgress::kCaughtUp;  // appended, not yet visible to the feed
    ++visited;
    if (h.seq > c->last_seq) {
      const WalkStep step = visit(h, rec);
      if (step == WalkStep::kBad) return FeedProgress::kCorrupt;
      c->last_seq = h.seq;
      c->offset += h.record_size();
      if (step == WalkStep::kStop) {
        return c->last_seq < upper ? FeedProgress::kMore : FeedProgress::kCaughtUp;
      }
      continue;
    }
    c->offset += h.record_size();
  }
  return FeedProgress::kCaughtUp;
}

FeedProgress LogStore::ReadChanges(FeedCursor* c, uint64_t upper, std::string_view prefix,
                                   size_t budget, ChangeSink sink, void* ctx) const {
  return WalkLog(c, upper, 0, budget, [&](const RecordHeader& h, const char* rec) {
    // Term markers are not events; other records only when their key has the prefix.
    const std::string_view key(rec + kRecordHeaderSize, h.key_len);
    if (h.type == RecordType::kTerm || !key.starts_with(prefix)) return WalkStep::kNext;
    const std::string_view value(rec + kRecordHeaderSize + h.key_len, h.value_len);
    if (RecordCrc(rec, h) != h.crc) return WalkStep::kBad;
    return sink(ctx, ChangeEvent{h.type, h.seq, key, value}) ? WalkStep::kNext : WalkStep::kStop;
  });
}

FeedProgress LogStore::ReadLog(FeedCursor* c, uint64_t upper, uint64_t floor, size_t max_bytes,
                               std::string* out) const {
  // Budget in records as well, so a run of tiny records cannot hold the read section long.
  return WalkLog(c, upper, floor, max_bytes / kRecordHeaderSize + 1,
                 [&](const RecordHeader& h, const char* rec) {
                   if (RecordCrc(rec, h) != h.crc) return WalkStep::kBad;
                   out->append(rec, h.record_size());
                   return out->size() < max_bytes ? WalkStep::kNext : WalkStep::kStop;
                 });
}

Status LogStore::LoadFeedState(uint64_t* horizon, uint64_t* last_seq) {
  *horizon = *last_seq = 0;
  FeedState state;
  Status s = ReadFeedState(&fs_, opts_.dir, &state);
  if (s.IsNotFound()) return Status::OK();  // never compacted by a feed-aware binary
  if (s.IsCorruption()) {
    // Written atomically, so this is damage: assume no history survives.
    recovery_.warnings.push_back(std::string(kFeedStateFile) +
                                 ": damaged; the change feed keeps no history before now");
    *horizon = UINT64_MAX;
    return Status::OK();
  }
  if (!s.ok()) return s;
  *horizon = state.horizon;
  *last_seq = state.last_seq;
  return Status::OK();
}

Status LogStore::SaveFeedState(uint64_t horizon, uint64_t last_seq) {
  return WriteFeedState(&fs_, opts_.dir, FeedState{horizon, last_seq});
}

}  // namespace httpkv::storage
