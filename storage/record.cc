#include "storage/record.h"

#include <cstring>

#include "storage/coding.h"
#include "storage/crc32c.h"

namespace httpkv::storage {
namespace {

// Field offsets inside the header.
constexpr size_t kCrcOff = 0, kTypeOff = 4, kReservedOff = 5, kKeyLenOff = 6, kValueLenOff = 8,
                 kSeqOff = 12;

}  // namespace

std::string_view DecodeStatusName(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kIncomplete:
      return "incomplete";
    case DecodeStatus::kBadHeader:
      return "bad header";
    case DecodeStatus::kChecksumMismatch:
      return "checksum mismatch";
  }
  return "unknown";
}

Status ValidateKeyValue(std::string_view key, std::string_view value) {
  if (key.empty()) return Status::InvalidArgument("key must not be empty");
  if (key.size() > kMaxKeySize) return Status::InvalidArgument("key longer than 65535 bytes");
  if (value.size() > kMaxValueSize) return Status::InvalidArgument("value larger than 2^31 bytes");
  return Status::OK();
}

uint32_t ComputeRecordCrc(const char* raw_header, std::string_view key, std::string_view value) {
  uint32_t crc = Crc32c(raw_header + kTypeOff, kRecordHeaderSize - kTypeOff);
  crc = Crc32cExtend(crc, key.data(), key.size());
  return Crc32cExtend(crc, value.data(), value.size());
}

void EncodeRecord(RecordType type, uint64_t seq, std::string_view key, std::string_view value,
                  std::string* out, uint64_t expires_at_ms) {
  const size_t trailer = type == RecordType::kPutExpiring ? kExpiryTrailerSize : 0;
  out->resize(RecordSize(key.size(), value.size()) + trailer);
  char* p = out->data();
  p[kTypeOff] = static_cast<char>(type);
  p[kReservedOff] = 0;
  EncodeFixed16(p + kKeyLenOff, static_cast<uint16_t>(key.size()));
  EncodeFixed32(p + kValueLenOff, static_cast<uint32_t>(value.size()));
  EncodeFixed64(p + kSeqOff, seq);
  if (!key.empty()) std::memcpy(p + kRecordHeaderSize, key.data(), key.size());  // kTerm: none
  if (!value.empty()) std::memcpy(p + kRecordHeaderSize + key.size(), value.data(), value.size());
  if (trailer != 0) EncodeFixed64(p + kRecordHeaderSize + key.size() + value.size(), expires_at_ms);
  // CRC over the contiguous bytes after the crc field, in one pass.
  EncodeFixed32(p + kCrcOff, Crc32c(p + kTypeOff, out->size() - kTypeOff));
}

DecodeStatus ParseHeader(const char* p, size_t n, RecordHeader* h) {
  if (n < kRecordHeaderSize) return DecodeStatus::kIncomplete;
  h->crc = DecodeFixed32(p + kCrcOff);
  const auto type = static_cast<uint8_t>(p[kTypeOff]);
  h->key_len = DecodeFixed16(p + kKeyLenOff);
  h->value_len = DecodeFixed32(p + kValueLenOff);
  h->seq = DecodeFixed64(p + kSeqOff);
  if (type < 1 || type > 5) return DecodeStatus::kBadHeader;
  h->type = static_cast<RecordType>(type);
  if (h->type == RecordType::kTerm) {  // no key, the term as its value
    const bool ok = p[kReservedOff] == 0 && h->key_len == 0 && h->value_len == kTermValueSize;
    return ok ? DecodeStatus::kOk : DecodeStatus::kBadHeader;
  }
  if (p[kReservedOff] != 0 || h->key_len == 0 || h->value_len > kMaxValueSize) {
    return DecodeStatus::kBadHeader;
  }
  if (!IsPut(h->type) && h->value_len != 0) return DecodeStatus::kBadHeader;
  return DecodeStatus::kOk;
}

uint64_t TermOfRecord(std::string_view value) {
  return DecodeFixed64(value.data());
}

void EncodeTermRecord(uint64_t seq, uint64_t term, std::string* out) {
  char value[kTermValueSize];
  EncodeFixed64(value, term);
  EncodeRecord(RecordType::kTerm, seq, {}, std::string_view(value, sizeof value), out);
}

uint64_t RecordExpiry(const char* rec, const RecordHeader& h) {
  return DecodeFixed64(rec + kRecordHeaderSize + h.key_len + h.value_len);
}

uint32_t RecordCrc(const char* rec, const RecordHeader& h) {
  return Crc32c(rec + kTypeOff, h.record_size() - kTypeOff);
}

DecodeStatus DecodeRecord(std::string_view buf, RecordView* out) {
  DecodeStatus s = ParseHeader(buf.data(), buf.size(), &out->header);
  if (s != DecodeStatus::kOk) return s;
  const RecordHeader& h = out->header;
  if (buf.size() < h.record_size()) return DecodeStatus::kIncomplete;
  const uint32_t crc = Crc32c(buf.data() + kTypeOff, h.record_size() - kTypeOff);
  if (crc != h.crc) return DecodeStatus::kChecksumMismatch;
  out->key = buf.substr(kRecordHeaderSize, h.key_len);
  out->value = buf.substr(kRecordHeaderSize + h.key_len, h.value_len);
  return DecodeStatus::kOk;
}

}  // namespace httpkv::storage
