// Serializes HTTP/1.1 responses straight into a connection's output Buffer.
//
// Call order: Start, Header/HeaderNumber*, then exactly one of Finish, FinishNoBody or
// FinishChunkedHead (+ Chunk* + EndChunks). Nothing allocates once the Buffer has room.
#pragma once

#include <cstdint>
#include <string_view>

#include "reactor/buffer.h"

namespace httpkv::http {

enum class ConnectionHeader : uint8_t { kNone, kClose, kKeepAlive };

class ResponseWriter {
 public:
  explicit ResponseWriter(reactor::Buffer* out) : out_(out) {}

  // "HTTP/1.1 <code> <reason>", Date, and "Connection: close|keep-alive" if asked.
  void Start(int status, ConnectionHeader conn = ConnectionHeader::kNone);
  // The same with the Date value given (an event loop's cached HttpDate: no clock read).
  void Start(int status, ConnectionHeader conn, std::string_view date);
  void Header(std::string_view name, std::string_view value);
  void HeaderNumber(std::string_view name, uint64_t value);
  // Content-Type (if non-empty) and Content-Length: body.size(), then the body unless
  // head_only (a HEAD answer keeps the GET's Content-Length).
  void Finish(std::string_view content_type, std::string_view body, bool head_only = false);
  // The head of a response whose body is not sent (HEAD answered from metadata only).
  void FinishHead(std::string_view content_type, uint64_t content_length);
  // 1xx/204/304: end of head, no Content-Length, no body.
  void FinishNoBody();
  // Streaming: "Transfer-Encoding: chunked"; Chunk("") is ignored (it would end the body).
  void FinishChunkedHead(std::string_view content_type);
  void Chunk(std::string_view data);
  void EndChunks();

  static void WriteContinue(reactor::Buffer* out);

 private:
  reactor::Buffer* out_;
};

}  // namespace httpkv::http
