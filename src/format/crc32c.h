#pragma once
// CRC-32C (Castagnoli), the checksum of every tensor and of the index in a
// model file. Table-driven, eight bytes per step.
#include <cstddef>
#include <cstdint>

namespace mobilellm::format {

// Continues `crc` (0 to start) over n bytes.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace mobilellm::format
