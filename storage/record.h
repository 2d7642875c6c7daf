// Record codec for the append-only log (layout documented in storage/FORMAT.md).
//
//   crc32c u32 | type u8 | reserved u8 (0) | key_len u16 | value_len u32 | seq u64 | key | value
//
// All integers little-endian. The CRC covers every byte after the crc field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace httpkv::storage {

inline constexpr uint32_t kFormatVersion = 2;  // v1 dirs (one segment, no hints) stay readable
inline constexpr size_t kRecordHeaderSize = 20;
inline constexpr size_t kMaxKeySize = 65535;
inline constexpr uint64_t kMaxValueSize = uint64_t{1} << 31;

enum class RecordType : uint8_t { kPut = 1, kDelete = 2 };

struct RecordHeader {
  uint32_t crc = 0;
  RecordType type = RecordType::kPut;
  uint16_t key_len = 0;
  uint32_t value_len = 0;
  uint64_t seq = 0;

  uint64_t record_size() const { return kRecordHeaderSize + key_len + uint64_t{value_len}; }
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

// Replaces *out with the encoded record, reusing its capacity. Key/value must be valid.
void EncodeRecord(RecordType type, uint64_t seq, std::string_view key, std::string_view value,
                  std::string* out);

// Parses and sanity-checks the 20-byte header at p (n bytes available). Does not check
// the CRC and does not require the key/value to be present.
DecodeStatus ParseHeader(const char* p, size_t n, RecordHeader* h);

// CRC of a record given its raw 20-byte header and payload parts.
uint32_t ComputeRecordCrc(const char* raw_header, std::string_view key, std::string_view value);

// Decodes the record at the start of buf and verifies its CRC.
DecodeStatus DecodeRecord(std::string_view buf, RecordView* out);

}  // namespace httpkv::storage
