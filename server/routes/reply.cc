#include "server/routes/reply.h"

namespace httpkv::server {

void SerializeReply(const Reply& reply, bool head, http::ConnectionHeader connection,
                    std::string_view date, reactor::Buffer* out) {
  http::ResponseWriter w(out);
  w.Start(reply.status, connection, date);
  if (!reply.allow.empty()) w.Header("Allow", reply.allow);
  if (!reply.location.empty()) w.Header("Location", reply.location);
  if (!reply.etag.empty()) w.Header("ETag", reply.etag);
  if (!reply.www_authenticate.empty()) w.Header("WWW-Authenticate", reply.www_authenticate);
  if (reply.x_seq >= 0) w.HeaderNumber("X-Seq", static_cast<uint64_t>(reply.x_seq));
  if (reply.seq_horizon >= 0)
    w.HeaderNumber("X-Seq-Horizon", static_cast<uint64_t>(reply.seq_horizon));
  if (reply.expires_in >= 0)
    w.HeaderNumber("X-Expires-In", static_cast<uint64_t>(reply.expires_in));
  if (!reply.x_primary.empty()) w.Header("X-Primary", reply.x_primary);
  if (!reply.x_owner.empty()) w.Header("X-Owner", reply.x_owner);
  if (!reply.x_term_history.empty()) w.Header("X-Term-History", reply.x_term_history);
  auto number = [&w](std::string_view name, int64_t v) {
    if (v >= 0) w.HeaderNumber(name, static_cast<uint64_t>(v));
  };
  number("Retry-After", reply.retry_after);
  number("X-Log-End", reply.log_end);
  number("X-Commit", reply.commit);
  number("X-Term", reply.term);
  number("X-Truncate-To", reply.truncate_to);
  if (reply.event_stream) {
    w.Header("Cache-Control", "no-cache");
    w.FinishChunkedHead(reply.content_type);
    return;
  }
  if (reply.status < 200 || reply.status == 204 || reply.status == 304) {
    w.FinishNoBody();
  } else if (reply.stream != nullptr) {
    w.FinishChunkedHead(reply.content_type);  // HEAD: the same head, no chunks
    if (!head) w.Chunk(reply.body);
  } else if (reply.head_length >= 0) {
    w.FinishHead(reply.content_type, static_cast<uint64_t>(reply.head_length));
  } else {
    w.Finish(reply.content_type, reply.body, head);
  }
}

}  // namespace httpkv::server
