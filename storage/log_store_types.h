// The values LogStore's interface (storage/log_store.h) takes and returns: options, write
// and read results, stats, and the change feed's event, cursor and callbacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/env.h"
#include "storage/histogram.h"
#include "storage/record.h"
#include "storage/status.h"

namespace httpkv::storage {

// Redis appendfsync semantics.
enum class FsyncPolicy : uint8_t { kAlways, kEverySec, kNever };
std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name);  // always|everysec|never
std::string_view FsyncPolicyName(FsyncPolicy policy);

struct Options {
  std::string dir;
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  // With kAlways: Put/Delete do not fdatasync inline; the caller passes
  // WriteResult::sync_token to SyncAsync and acknowledges the write when done runs.
  bool group_commit = false;
  // The active segment rolls over when an append would grow it past this (a single larger
  // record gets a segment of its own).
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Compact in the background when dead_bytes / disk_bytes exceeds this, checked after a
  // rollover and on every write once dead_bytes >= segment_bytes / 2 (>= 1 disables automatic
  // compaction; Compact()/RequestCompaction() still work).
  double compact_dead_ratio = 0.5;
  // Every file operation of the store goes through it (storage/env.h); must outlive the
  // store. Tests pass a fault-injecting one (tests/storage/fault_fs.h).
  FileSystem* fs = FileSystem::Default();
};

enum class Precondition : uint8_t { kNone, kMustExist, kMustNotExist, kVersionMatches };

// version = seq of the record holding the value (monotonic, persisted).
struct ValueMeta {
  uint64_t version = 0;
  uint32_t size = 0;
  uint64_t expires_at_ms = 0;  // unix ms when the value expires; 0: never
};

// existed: key was live before this write; version: the new record's seq.
// sync_token: log position after this record (monotonic for the store's lifetime, across
// segments); durable once durable_token() >= sync_token. 0 when nothing was written.
struct WriteResult {
  bool existed = false;
  uint64_t version = 0;
  uint64_t sync_token = 0;
};

// Keys in byte order, > after (exclusive), starting with prefix, at most limit of them.
struct ScanOptions {
  std::string_view prefix;
  std::string_view after;
  size_t limit = SIZE_MAX;
};

struct Stats {
  uint64_t keys = 0;
  // Bytes of records in all segments (what was appended and not yet compacted away). Segment
  // files may be larger: the active one's preallocated zero tail and the spare segment are
  // free space and not counted.
  uint64_t disk_bytes = 0;
  uint64_t live_bytes = 0;  // bytes of records that are the latest version of a live key
  uint64_t appends = 0;
  // Every fdatasync the store made: the log's, sealing, the spare, compaction outputs,
  // hints, recovery (directory fsyncs are not counted).
  uint64_t fsyncs = 0;
  uint64_t fsync_ns_total = 0;
  uint64_t fsync_errors = 0;
  uint64_t dead_bytes = 0;  // disk_bytes - live_bytes: what compaction can reclaim
  uint64_t segments = 0;
  uint64_t compactions = 0;            // completed compactions
  uint64_t spares_prepared = 0;        // segments zero-filled ahead of a rollover (Preallocation)
  HistogramSnapshot fsync_latency_ns;  // every fdatasync counted in fsyncs
  // Per fdatasync of the log (the active segment, or one being sealed): the appends it made
  // durable that no earlier one had (0 when there was nothing new).
  HistogramSnapshot writes_per_fsync;
  uint64_t last_seq = 0;     // LastSeq()
  uint64_t feed_seq = 0;     // FeedSeq()
  uint64_t seq_horizon = 0;  // SeqHorizon()
};

// Change feed (storage/log_store_feed.cc, FORMAT.md "Change feed"). An event views a record
// inside a segment mapping: valid only during the ChangeSink call.
struct ChangeEvent {
  RecordType type = RecordType::kPut;
  uint64_t seq = 0;
  std::string_view key;
  std::string_view value;  // empty for a delete
};
// Where a watcher is in the log: every record with seq <= last_seq has been delivered (or
// filtered out). segment/offset: the next record to look at (segment 0: find it by seq).
struct FeedCursor {
  uint64_t last_seq = 0;
  uint32_t segment = 0;
  uint64_t offset = 0;
};
enum class FeedProgress : uint8_t {
  kCaughtUp,     // every record with seq <= upper has been visited
  kMore,         // the budget ran out or the sink asked to stop: call again
  kHistoryLost,  // compaction dropped records after the cursor (it is behind the horizon)
  kCorrupt,      // a record on the path failed verification
};
// Called for each record past the cursor whose key starts with the prefix; false: stop
// after this one (e.g. the output is full).
using ChangeSink = bool (*)(void* ctx, const ChangeEvent& ev);

// SyncAsync's completion: a plain function and the caller's context, so queueing a waiter
// allocates nothing.
using SyncDone = void (*)(void* ctx, const Status& status);

}  // namespace httpkv::storage
