#pragma once

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record.
// Debian 12 ships no CRC32C library. On x86-64 CPUs with SSE4.2 the crc32 instruction does
// the work (checked once at run time); elsewhere a slicing-by-8 table does.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dengine::log {

// Continues `crc` (the CRC32C of earlier bytes; 0 to start) over `size` more bytes.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32c(const void* data, size_t size) {
  return crc32c_extend(0, data, size);
}
inline uint32_t crc32c(std::string_view bytes) {
  return crc32c(bytes.data(), bytes.size());
}

namespace detail {
// Both implementations, so tests can check each against the other.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t size);
// Only when crc32c_hardware_available().
uint32_t crc32c_extend_hardware(uint32_t crc, const void* data, size_t size);
bool crc32c_hardware_available();
}  // namespace detail

}  // namespace dengine::log
