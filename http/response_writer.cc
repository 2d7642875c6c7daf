#include "http/response_writer.h"

#include "http/http_date.h"
#include "http/status.h"

namespace httpkv::http {

void ResponseWriter::Start(int status, ConnectionHeader conn) {
  Start(status, conn, HttpDate());
}

void ResponseWriter::Start(int status, ConnectionHeader conn, std::string_view date) {
  const std::string_view reason = ReasonPhrase(status);
  // One reservation for the fixed part keeps the common path to a single capacity check.
  out_->EnsureWritable(64 + reason.size() + date.size());
  out_->Append("HTTP/1.1 ");
  out_->AppendDecimal(static_cast<unsigned>(status));
  out_->Append(' ');
  out_->Append(reason);
  out_->Append("\r\nDate: ");
  out_->Append(date);
  out_->Append("\r\n");
  if (conn == ConnectionHeader::kClose) out_->Append("Connection: close\r\n");
  if (conn == ConnectionHeader::kKeepAlive) out_->Append("Connection: keep-alive\r\n");
}

void ResponseWriter::Header(std::string_view name, std::string_view value) {
  out_->EnsureWritable(name.size() + value.size() + 4);
  out_->Append(name);
  out_->Append(": ");
  out_->Append(value);
  out_->Append("\r\n");
}

void ResponseWriter::HeaderNumber(std::string_view name, uint64_t value) {
  out_->EnsureWritable(name.size() + 24);
  out_->Append(name);
  out_->Append(": ");
  out_->AppendDecimal(value);
  out_->Append("\r\n");
}

void ResponseWriter::Finish(std::string_view content_type, std::string_view body, bool head_only) {
  FinishHead(content_type, body.size());
  if (!head_only) out_->Append(body);
}

void ResponseWriter::FinishHead(std::string_view content_type, uint64_t content_length) {
  if (!content_type.empty()) Header("Content-Type", content_type);
  HeaderNumber("Content-Length", content_length);
  out_->Append("\r\n");
}

void ResponseWriter::FinishNoBody() {
  out_->Append("\r\n");
}

void ResponseWriter::FinishChunkedHead(std::string_view content_type) {
  if (!content_type.empty()) Header("Content-Type", content_type);
  out_->Append("Transfer-Encoding: chunked\r\n\r\n");
}

void ResponseWriter::Chunk(std::string_view data) {
  if (data.empty()) return;
  static constexpr char kHex[] = "0123456789abcdef";
  char size[16];
  int n = 0;
  for (size_t v = data.size(); v != 0; v >>= 4) size[n++] = kHex[v & 15];
  out_->EnsureWritable(n + data.size() + 4);
  while (n > 0) out_->Append(size[--n]);
  out_->Append("\r\n");
  out_->Append(data);
  out_->Append("\r\n");
}

void ResponseWriter::EndChunks() {
  out_->Append("0\r\n\r\n");
}

void ResponseWriter::WriteContinue(reactor::Buffer* out) {
  out->Append("HTTP/1.1 100 Continue\r\n\r\n");
}

}  // namespace httpkv::http
