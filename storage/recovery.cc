#include "storage/recovery.h"

#include "storage/hint.h"
#include "storage/record_scanner.h"

namespace httpkv::storage {
namespace {

// Seq-ordered apply: see the header comment.
void Apply(RecordType type, std::string_view key, uint32_t value_len, uint64_t seq,
           uint32_t segment_id, uint64_t offset, KeyIndex* index, RecoveryState* state) {
  if (seq > state->max_seq) state->max_seq = seq;
  if (state->seg_first == 0) state->seg_first = seq;
  if (state->seg_last != 0 && seq > state->seg_last + 1) state->seg_gap_top = seq - 1;
  state->seg_last = seq;
  if (type == RecordType::kTerm) return;  // changes no key (HISTORY holds the terms)
  auto tomb = state->tombstones.empty() ? state->tombstones.end() : state->tombstones.find(key);
  if (IsPut(type)) {
    if (tomb != state->tombstones.end() && tomb->second > seq) return;
    IndexEntry prev;
    const bool expires = type == RecordType::kPutExpiring;
    // One probe: applied only if seq is newer than the key's entry.
    switch (
        index->UpsertIfNewer(key, IndexEntry{segment_id, value_len, offset, seq, expires}, &prev)) {
      case KeyIndex::Upserted::kNotNewer:
        return;
      case KeyIndex::Upserted::kReplaced:
        state->live_bytes -= EntryRecordSize(key.size(), prev);
        break;
      case KeyIndex::Upserted::kInserted:
        break;
    }
    if (tomb != state->tombstones.end()) state->tombstones.erase(tomb);
    if (expires) state->expiring.emplace_back(std::string(key), seq);
    state->live_bytes += RecordSize(key.size(), value_len) + (expires ? kExpiryTrailerSize : 0);
    return;
  }
  IndexEntry cur;
  if (index->Find(key, &cur) && cur.version >= seq) return;
  IndexEntry prev;
  if (index->Erase(key, &prev)) state->live_bytes -= EntryRecordSize(key.size(), prev);
  if (tomb == state->tombstones.end()) {
    state->tombstones.emplace(std::string(key), seq);
  } else if (tomb->second < seq) {
    tomb->second = seq;
  }
}

}  // namespace

Status RecoverSegment(const Segment& segment, std::string_view hint, bool active, KeyIndex* index,
                      RecoveryState* state, RecoveryReport* report, uint64_t* end_offset) {
  report->segments++;
  const uint32_t id = segment.id;
  state->seg_first = state->seg_last = state->seg_gap_top = 0;
  if (!hint.empty()) {
    ForEachHintEntry(hint, [&](const HintEntry& e) {
      Apply(e.type, e.key, e.value_len, e.seq, id, e.offset, index, state);
      report->records++;
    });
    report->segments_from_hints++;
    report->hint_bytes += hint.size();
    *end_offset = segment.size.load();
    return Status::OK();
  }

  uint64_t size = 0;
  if (Status s = segment.file->Size(&size); !s.ok()) return s;
  report->bytes_scanned += size;
  MappedRegion map;
  if (Status s = segment.file->Map(size, MapMode::kPrivate, &map); !s.ok()) return s;
  std::vector<DamagedRange> damage;
  const uint64_t end = ScanRecords(
      map.view(),
      [&](const RecordView& rec, uint64_t off) {
        Apply(rec.header.type, rec.key, rec.header.value_len, rec.header.seq, id, off, index,
              state);
        report->records++;
      },
      &damage);
  for (const DamagedRange& d : damage) {
    if (d.torn_tail && !active) {
      // Sealed segments were fsynced before sealing: this is damage, left for --repair.
      report->warnings.push_back(segment.name + ": damaged tail at offset " +
                                 std::to_string(d.offset) + " (" + std::to_string(d.length) +
                                 " bytes) left in place in a sealed segment");
      continue;
    }
    (d.torn_tail ? report->torn_tail_bytes : report->corrupt_bytes_skipped) += d.length;
    report->warnings.push_back(DamageWarning(segment.name, d));
  }
  const bool torn = !damage.empty() && damage.back().torn_tail;
  if (active && torn) {
    // Cut the torn record (and the free space after it) so new appends follow the last
    // good record; the file grows again with them.
    Status s = segment.file->Truncate(end);
    if (s.ok()) s = segment.file->Sync();
    if (!s.ok()) return s;
  }
  // The active segment keeps its zero tail (free space for appends). A sealed one with a
  // zero tail was interrupted while sealing: the caller truncates it (end < file size). A
  // damaged sealed one keeps its size, damage included, for --repair.
  *end_offset = active || !torn ? end : size;
  return Status::OK();
}

}  // namespace httpkv::storage
