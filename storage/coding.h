// The one little-endian codec of storage/: every integer in a segment, hint, compaction
// marker or index arena entry is written and read through these functions.
//
// x86-64 and aarch64 Linux are little-endian, so an encode is a plain store and a decode a
// plain load; memcpy keeps them alignment-safe and compiles to a single mov.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace httpkv::storage {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "storage codec assumes little-endian");

inline void EncodeFixed16(char* dst, uint16_t v) {
  std::memcpy(dst, &v, sizeof v);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  std::memcpy(dst, &v, sizeof v);
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  std::memcpy(dst, &v, sizeof v);
}
// The low 40 bits of v in 5 bytes (index arena offsets).
inline void EncodeFixed40(char* dst, uint64_t v) {
  std::memcpy(dst, &v, 5);
}

inline uint16_t DecodeFixed16(const char* src) {
  uint16_t v;
  std::memcpy(&v, src, sizeof v);
  return v;
}
inline uint32_t DecodeFixed32(const char* src) {
  uint32_t v;
  std::memcpy(&v, src, sizeof v);
  return v;
}
inline uint64_t DecodeFixed64(const char* src) {
  uint64_t v;
  std::memcpy(&v, src, sizeof v);
  return v;
}
inline uint64_t DecodeFixed40(const char* src) {
  uint64_t v = 0;
  std::memcpy(&v, src, 5);
  return v;
}

inline void PutFixed8(std::string* dst, uint8_t v) {
  dst->push_back(static_cast<char>(v));
}
inline void PutFixed16(std::string* dst, uint16_t v) {
  char buf[sizeof v];
  EncodeFixed16(buf, v);
  dst->append(buf, sizeof buf);
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[sizeof v];
  EncodeFixed32(buf, v);
  dst->append(buf, sizeof buf);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[sizeof v];
  EncodeFixed64(buf, v);
  dst->append(buf, sizeof buf);
}

}  // namespace httpkv::storage
