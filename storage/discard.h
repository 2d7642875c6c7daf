// Discarding the tail of a log (FORMAT.md "Replication"): a member that rejoins its shard and
// finds it wrote records its new primary does not have (a divergent tail), or that fell behind
// the primary's compaction horizon, asks for its log to be cut back to a seq. The request is
// a durable DISCARD file; the cut is made at the next Open, before recovery, so no reader or
// writer ever sees it happen, and every step can be repeated after a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace httpkv::storage {

inline constexpr char kDiscardFile[] = "DISCARD";

// Records (durably) that the log must keep only records with seq <= keep_through
// (0: nothing — the member takes a full copy).
Status RequestDiscard(FileSystem* fs, const std::string& dir, uint64_t keep_through);

// At Open, before recovery: carries out a DISCARD request, if any, then removes it.
// Segments whose records all come after the cut are deleted, the one it falls in is truncated
// at its first record past the cut (and loses its hint), HISTORY drops the terms that start
// after it. If a compaction ran after the cut point (FEED's last seq is past it), a record the
// kept log needs may have been dropped: then the whole log is deleted instead and the member
// takes a full copy. Appends one note per action.
Status ApplyPendingDiscard(FileSystem* fs, const std::string& dir, std::vector<std::string>* notes);

}  // namespace httpkv::storage
