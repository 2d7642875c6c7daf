// Server-Sent Events text of the change feed (SPEC "Change feed and expiry"):
//
//   id: 1042
//   event: put            (delete, expire)
//   data: {"key":"k1","seq":1042,"value":"..."}   (no value for delete and expire)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "storage/log_store.h"

namespace httpkv::server {

// Events are rendered into a buffer of about this size, then sent as one chunk.
inline constexpr size_t kFeedChunkBytes = 64 * 1024;

// A storage::ChangeSink: ctx is the std::string the event is appended to. False once the
// buffer holds kFeedChunkBytes.
bool AppendFeedEvent(void* ctx, const storage::ChangeEvent& ev);

// ": text\n\n" — a comment line (heartbeat, or the reason a feed ends).
void AppendFeedComment(std::string_view text, std::string* out);

}  // namespace httpkv::server
