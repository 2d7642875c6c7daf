// LogStore's side of replication (FORMAT.md "Replication"): applying records shipped from a
// primary under their own seqs, the term history and its markers, and the discard request a
// rejoining member makes. Reading the log for shipping is ReadLog (log_store_feed.cc).
#include <algorithm>

#include "storage/discard.h"
#include "storage/log_store.h"

namespace httpkv::storage {

Status LogStore::ApplyReplicated(std::string_view records, ApplyResult* result) {
  *result = ApplyResult{};
  MutexLock lock(&write_mu_);
  while (!records.empty()) {
    RecordView rec;
    const DecodeStatus ds = DecodeRecord(records, &rec);
    if (ds == DecodeStatus::kIncomplete) return Status::InvalidArgument("truncated record");
    if (ds != DecodeStatus::kOk) {
      return Status::Corruption("replicated record: " + std::string(DecodeStatusName(ds)));
    }
    const uint64_t seq = rec.header.seq;
    if (seq < next_seq_) {
      return Status::InvalidArgument("replicated seq " + std::to_string(seq) +
                                     " is not past the log's end " + std::to_string(next_seq_ - 1));
    }
    const size_t size = rec.header.record_size();
    write_buf_.assign(records.data(), size);
    uint64_t offset;
    if (Status s = AppendLocked(&offset); !s.ok()) return s;
    // A gap (a full copy skips what compaction dropped): no history before it here either.
    if (seq > next_seq_ && horizon_.load() < seq - 1) horizon_.store(seq - 1);
    next_seq_ = seq + 1;
    IndexReplicatedLocked(rec, records.data(), offset);
    PublishSeqLocked(seq);
    records.remove_prefix(size);
    result->records++;
  }
  result->last_seq = last_seq_.load(std::memory_order_relaxed);
  result->sync_token = log_pos_.load(std::memory_order_relaxed);
  if (result->records == 0) return Status::OK();
  return AfterAppendLocked();
}

void LogStore::IndexReplicatedLocked(const RecordView& rec, const char* raw, uint64_t offset) {
  const RecordHeader& h = rec.header;
  if (h.type == RecordType::kTerm) {
    MutexLock lock(&history_mu_);
    const uint64_t term = TermOfRecord(rec.value);
    if (history_.empty() || history_.back().term < term) {
      history_.push_back(TermStart{term, h.seq});
      // The marker is in the log already; HISTORY is rebuilt from it if this write is lost
      // (recovery does not need it: it only names where terms begin).
      (void)SaveTermHistory(&fs_, opts_.dir, history_);
    }
    return;
  }
  IndexEntry old;
  const bool in_index = index_.Find(rec.key, &old);
  if (in_index && old.segment == active_->id) active_has_dead_ = true;
  if (!IsPut(h.type)) {
    if (in_index) {
      index_.Erase(rec.key, &old);
      live_bytes_.fetch_sub(EntryRecordSize(rec.key.size(), old));
    }
    active_has_dead_ = true;  // the tombstone itself
    return;
  }
  const bool expires = h.type == RecordType::kPutExpiring;
  IndexEntry prev;
  index_.Upsert(rec.key, IndexEntry{active_->id, h.value_len, offset, h.seq, expires}, &prev);
  if (expires) {
    QueueExpiry(rec.key, h.seq, RecordExpiry(raw, h));
  }
  live_bytes_.fetch_add(h.record_size() - (in_index ? EntryRecordSize(rec.key.size(), old) : 0));
}

Status LogStore::AdvanceTo(uint64_t seq) {
  MutexLock clock(&compact_mu_);  // FEED is compaction's file too
  MutexLock lock(&write_mu_);
  if (seq < next_seq_) return Status::OK();
  const uint64_t horizon = std::max(horizon_.load(), seq);
  if (Status s = SaveFeedState(horizon, seq); !s.ok()) return s;
  horizon_.store(horizon);
  next_seq_ = seq + 1;
  last_seq_.store(seq, std::memory_order_release);
  if (durable_seq_.load() < seq) durable_seq_.store(seq, std::memory_order_release);
  return Status::OK();
}

Status LogStore::BeginTerm(uint64_t term, uint64_t* seq_out) {
  MutexLock lock(&write_mu_);
  const uint64_t seq = next_seq_;
  {
    MutexLock hlock(&history_mu_);
    if (!history_.empty() && history_.back().term >= term) {
      return Status::InvalidArgument("term " + std::to_string(term) + " is not past term " +
                                     std::to_string(history_.back().term));
    }
    TermHistory next = history_;
    next.push_back(TermStart{term, seq});
    // Durable before the marker: a term is never in the log without its history entry.
    if (Status s = SaveTermHistory(&fs_, opts_.dir, next); !s.ok()) return s;
    history_ = std::move(next);
  }
  EncodeTermRecord(seq, term, &write_buf_);
  uint64_t offset;
  if (Status s = AppendLocked(&offset); !s.ok()) return s;
  ++next_seq_;
  PublishSeqLocked(seq);
  if (seq_out != nullptr) *seq_out = seq;
  return AfterAppendLocked();
}

Status LogStore::AdoptTermHistory(const TermHistory& primary) {
  MutexLock lock(&write_mu_);  // LastSeq() stays put, and ApplyReplicated waits
  const uint64_t last = last_seq_.load(std::memory_order_relaxed);
  TermHistory next;
  for (const TermStart& t : primary) {
    if (t.first_seq <= last) next.push_back(t);
  }
  MutexLock hlock(&history_mu_);
  if (next == history_) return Status::OK();
  if (Status s = SaveTermHistory(&fs_, opts_.dir, next); !s.ok()) return s;
  history_ = std::move(next);
  return Status::OK();
}

TermHistory LogStore::term_history() const {
  MutexLock lock(&history_mu_);
  return history_;
}

uint64_t LogStore::CurrentTerm() const {
  MutexLock lock(&history_mu_);
  return history_.empty() ? 0 : history_.back().term;
}

Status LogStore::ScheduleDiscard(uint64_t keep_through) {
  return RequestDiscard(&fs_, opts_.dir, keep_through);
}

}  // namespace httpkv::storage
