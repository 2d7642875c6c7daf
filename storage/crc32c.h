// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI/ext4.
//
// Crc32c() dispatches once at startup: SSE4.2 crc32 instructions when the CPU has them,
// a slicing-by-8 table otherwise. Both are exposed so tests can check they agree.
#pragma once

#include <cstddef>
#include <cstdint>

namespace httpkv::storage {

// Continues a CRC: Crc32cExtend(Crc32c(a), b) == Crc32c(a + b). Start value is 0.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) {
  return Crc32cExtend(0, data, n);
}

uint32_t Crc32cExtendSoftware(uint32_t crc, const void* data, size_t n);
// Only call when Crc32cHardwareAvailable().
uint32_t Crc32cExtendHardware(uint32_t crc, const void* data, size_t n);
bool Crc32cHardwareAvailable();

}  // namespace httpkv::storage
