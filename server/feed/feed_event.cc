#include "server/feed/feed_event.h"

#include <charconv>

#include "server/routes/listing.h"

namespace httpkv::server {
namespace {

void AppendNumber(uint64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out->append(buf, end);
}

}  // namespace

bool AppendFeedEvent(void* ctx, const storage::ChangeEvent& ev) {
  auto* out = static_cast<std::string*>(ctx);
  const bool put = storage::IsPut(ev.type);
  out->append("id: ");
  AppendNumber(ev.seq, out);
  out->append(put                                       ? "\nevent: put\ndata: {\"key\":"
              : ev.type == storage::RecordType::kExpire ? "\nevent: expire\ndata: {\"key\":"
                                                        : "\nevent: delete\ndata: {\"key\":");
  AppendJsonString(ev.key, out);  // escapes control characters: never a raw newline
  out->append(",\"seq\":");
  AppendNumber(ev.seq, out);
  if (put) {
    out->append(",\"value\":");
    AppendJsonString(ev.value, out);
  }
  out->append("}\n\n");
  return out->size() < kFeedChunkBytes;
}

void AppendFeedComment(std::string_view text, std::string* out) {
  out->append(": ");
  out->append(text);
  out->append("\n\n");
}

}  // namespace httpkv::server
