// Log shipping, the wire between a replica's LogFollower and its primary:
//
//   POST /replication/log?node=NAME&addr=HOST:PORT&after=SEQ&history=T:S,...[&floor=H]
//
// The replica names itself, says it holds every record up to `after` (durably under
// --fsync always: this is its acknowledgement), and sends its term history (storage/
// term_history.h). The primary answers (admin scope when --auth-file is on):
//   200  the raw records after `after`, as they are in its log (storage/FORMAT.md), at most
//        kShipBytes; X-Log-End: every record up to it has been sent or no longer exists;
//        X-Commit: the shard's commit seq; X-Seq: its last seq; X-Term: its term;
//        X-Term-History: its term history (the replica adopts it for what it holds). When
//        there is nothing new the request is held until there is, or for kFetchHold.
//   409  X-Truncate-To: the replica's log has a tail the primary's does not (a term it
//        never had): keep up to that seq and ask again.
//   410  X-Seq-Horizon: `after` is behind the primary's compaction horizon; an empty
//        replica asks again from 0 with floor=H and gets a full copy.
//   421  X-Primary: this member is not the primary (503 when no primary is known).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/log_store.h"
#include "storage/term_history.h"

namespace httpkv::server::replication {

inline constexpr std::chrono::milliseconds kFetchHold{500};
inline constexpr size_t kShipBytes = 1 << 20;

struct FetchRequest {
  std::string node;
  std::string addr;
  uint64_t after = 0;
  uint64_t floor = 0;
  storage::TermHistory history;
};

std::string FormatFetchPath(const FetchRequest& req);
// The query string (after '?'); an empty string_view when it is valid, else the reason.
std::string_view ParseFetchQuery(std::string_view query, FetchRequest* out);
// Node names and advertised addresses: letters, digits and ".-_:[]" only, 1..64 bytes.
bool ValidMemberToken(std::string_view s);

enum class FetchVerdict : uint8_t { kRecords, kTruncate, kHorizon };
struct FetchPlan {
  FetchVerdict verdict = FetchVerdict::kRecords;
  uint64_t value = 0;  // kTruncate: keep through; kHorizon: the horizon
};
// What the primary does with a fetch: tell a diverged replica where to cut, a replica
// behind the horizon to copy, or send records.
FetchPlan PlanFetch(const storage::LogStore& store, const FetchRequest& req);

// Appends up to kShipBytes of records after `after` (up to the store's last seq) to *out;
// *log_end: the seq up to which everything was visited. *cursor: where the replica's
// previous shipment ended (ReplicaSet keeps it), used when it is at `after`, so a replica
// that keeps up costs no rescan of the segment. False when history after `after` is gone
// (compaction overtook the copy: the replica gets 410) or the log is damaged.
bool ReadShipment(const storage::LogStore& store, const FetchRequest& req,
                  storage::FeedCursor* cursor, std::string* out, uint64_t* log_end);

}  // namespace httpkv::server::replication
