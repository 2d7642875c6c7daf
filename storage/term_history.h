// Term history: which replication term wrote which part of the log (FORMAT.md
// "Replication"). A shard's primary starts a term at the seq of its term marker record; the
// HISTORY file lists (term, first seq) in order, so two members can find where their logs
// stop agreeing (PostgreSQL's timeline history, Kafka's leader epochs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace httpkv::storage {

struct TermStart {
  uint64_t term = 0;
  uint64_t first_seq = 0;  // the seq of the term's marker record
  bool operator==(const TermStart&) const = default;
};
using TermHistory = std::vector<TermStart>;  // terms and first seqs both increasing

inline constexpr char kHistoryFile[] = "HISTORY";

std::string EncodeTermHistory(const TermHistory& h);
Status DecodeTermHistory(std::string_view data, TermHistory* h);
// NotFound-free: an absent file is an empty history.
Status LoadTermHistory(FileSystem* fs, const std::string& dir, TermHistory* h);
Status SaveTermHistory(FileSystem* fs, const std::string& dir, const TermHistory& h);

// The term that wrote `seq` (0: before any term, i.e. written by a node without replication).
uint64_t TermAt(const TermHistory& h, uint64_t seq);

// The last seq a member whose log is (mine, my_last) may keep to agree with a log (theirs,
// their_last): the end of the newest term both histories hold with the same first seq, or of
// the implicit term 0 (records before any term) when they share none. Everything after it was
// written in a term the other log does not have.
uint64_t CommonEnd(const TermHistory& mine, uint64_t my_last, const TermHistory& theirs,
                   uint64_t their_last);

// "term:first,term:first" (query-string friendly) and back; false on a malformed list.
std::string FormatTermHistory(const TermHistory& h);
bool ParseTermHistory(std::string_view text, TermHistory* h);

}  // namespace httpkv::storage
