#pragma once
// Facts of the safetensors format that the reader and the writer share:
// element widths, overflow-checked size arithmetic, and how names and
// shapes are printed in error messages.
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::io {

// The 8-byte little-endian header length is followed by this much JSON at most
// (the official library's MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Bits per element, or 0 for a name the official library (0.8) does not define.
int safetensors_dtype_bits(std::string_view dtype);

// Product of non-negative dims; nullopt when it (or a partial product) does not fit in int64.
std::optional<uint64_t> checked_numel(const std::vector<int64_t>& shape);

// numel * bits; nullopt on overflow.
std::optional<uint64_t> checked_bits(uint64_t numel, int bits);

// "[2, 3]"
std::string format_shape(const std::vector<int64_t>& shape);

// The name as a JSON string literal, so that quotes and control characters in a
// hostile header cannot garble the message.
std::string json_quoted(std::string_view name);

// A JSON library error for a user-facing message: "at byte N: <what>", without
// nlohmann's "[json.exception.parse_error.101]" prefix. Also covers its
// out_of_range, thrown for a number beyond double's range.
std::string json_error_text(const std::exception& e);

}  // namespace mobilellm::io
