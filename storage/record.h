// Record codec for the append-only log (layout documented in storage/FORMAT.md).
//
//   crc32c u32 | type u8 | reserved u8 (0) | key_len u16 | value_len u32 | seq u64 | key | value
//   [| expires_at_ms u64]   (type 3 only: a put that expires)
//
// All integers little-endian. The CRC covers every byte after the crc field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace httpkv::storage {

// v3 adds record types 3 and 4 (expiry); v4 adds type 5 (term marker, replication). Older
// dirs stay readable unchanged.
inline constexpr uint32_t kFormatVersion = 4;
inline constexpr size_t kRecordHeaderSize = 20;
inline constexpr size_t kMaxKeySize = 65535;
inline constexpr uint64_t kMaxValueSize = uint64_t{1} << 31;

// kPutExpiring: a put followed by its absolute expiry (unix ms) after the value.
// kExpire: the tombstone the store writes when such a value expires (a delete, for the feed
// an "expire" event).
// kTerm: a replication term begins (FORMAT.md "Replication"): no key, an 8-byte value holding
// the term. It changes no key and is not a change-feed event; replicas learn of a new term
// from it in the stream.
enum class RecordType : uint8_t { kPut = 1, kDelete = 2, kPutExpiring = 3, kExpire = 4, kTerm = 5 };
inline constexpr size_t kTermValueSize = 8;
inline constexpr size_t kExpiryTrailerSize = 8;
inline bool IsPut(RecordType t) {
  return t == RecordType::kPut || t == RecordType::kPutExpiring;
}

struct RecordHeader {
  uint32_t crc = 0;
  RecordType type = RecordType::kPut;
  uint16_t key_len = 0;
  uint32_t value_len = 0;
  uint64_t seq = 0;

  uint64_t trailer_size() const {
    return type == RecordType::kPutExpiring ? kExpiryTrailerSize : 0;
  }
  uint64_t record_size() const {
    return kRecordHeaderSize + key_len + uint64_t{value_len} + trailer_size();
  }
};

// A decoded record; key/value point into the buffer that was decoded.
struct RecordView {
  RecordHeader header;
  std::string_view key;
  std::string_view value;
};

enum class DecodeStatus : uint8_t {
  kOk,
  kIncomplete,        // buffer ends before the record does
  kBadHeader,         // impossible type/reserved/lengths
  kChecksumMismatch,  // structurally fine but the CRC does not match
};
std::string_view DecodeStatusName(DecodeStatus s);

inline uint64_t RecordSize(size_t key_len, uint64_t value_len) {
  return kRecordHeaderSize + key_len + value_len;
}

// InvalidArgument unless 1 <= key.size() <= kMaxKeySize and value.size() <= kMaxValueSize.
Status ValidateKeyValue(std::string_view key, std::string_view value);

// The term a kTerm record's value holds (value.size() == kTermValueSize).
uint64_t TermOfRecord(std::string_view value);
// Encodes the kTerm record that starts `term` at `seq`.
void EncodeTermRecord(uint64_t seq, uint64_t term, std::string* out);

// Replaces *out with the encoded record, reusing its capacity. Key/value must be valid.
// expires_at_ms: only for kPutExpiring.
void EncodeRecord(RecordType type, uint64_t seq, std::string_view key, std::string_view value,
                  std::string* out, uint64_t expires_at_ms = 0);

// The expiry of a kPutExpiring record whose header h was parsed at rec (record in memory).
uint64_t RecordExpiry(const char* rec, const RecordHeader& h);
// CRC of the whole record at rec (header h already parsed, record_size() bytes present).
uint32_t RecordCrc(const char* rec, const RecordHeader& h);

// Parses and sanity-checks the 20-byte header at p (n bytes available). Does not check
// the CRC and does not require the key/value to be present.
DecodeStatus ParseHeader(const char* p, size_t n, RecordHeader* h);

// CRC of a record given its raw 20-byte header and payload parts.
uint32_t ComputeRecordCrc(const char* raw_header, std::string_view key, std::string_view value);

// Decodes the record at the start of buf and verifies its CRC.
DecodeStatus DecodeRecord(std::string_view buf, RecordView* out);

}  // namespace httpkv::storage
