#include "io/safetensors_format.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace mobilellm::io {

int safetensors_dtype_bits(std::string_view dtype) {
  // The 22 variants of safetensors' Dtype enum (0.8.0); F4 and F6 pack below a byte.
  static constexpr std::pair<std::string_view, int> kTable[] = {
      {"BOOL", 8},    {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6},     {"U8", 8},          {"I8", 8},
      {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},
      {"U16", 16},    {"F16", 16},    {"BF16", 16},   {"I32", 32},        {"U32", 32},        {"F32", 32},
      {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64},
  };
  for (const auto& [name, bits] : kTable) {
    if (name == dtype) return bits;
  }
  return 0;
}

std::optional<uint64_t> checked_numel(const std::vector<int64_t>& shape) {
  // Every partial product must fit, as in the official library's checked fold, so
  // that TensorEntry::numel() can multiply in int64 without a check.
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) || n > kMax) return std::nullopt;
  }
  return n;
}

std::optional<uint64_t> checked_bits(uint64_t numel, int bits) {
  uint64_t total;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(bits), &total)) return std::nullopt;
  return total;
}

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string json_quoted(std::string_view name) {
  return nlohmann::json(std::string(name)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_error_text(const std::exception& e) {
  std::string what = e.what();
  const auto id_end = what.find("] ");
  if (what.rfind("[json.exception.", 0) == 0 && id_end != std::string::npos) what.erase(0, id_end + 2);
  if (const auto* parse = dynamic_cast<const nlohmann::json::parse_error*>(&e))
    return "at byte " + std::to_string(parse->byte) + ": " + what;
  return what;
}

}  // namespace mobilellm::io
