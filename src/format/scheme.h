#pragma once
// The quantization schemes of `mobilellm convert` and the KV-cache storage a
// model file asks for (docs/FORMAT.md), each with the one table of its names.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm::format {

// q4g32: spec §4.1 int4 groupwise; q4cw: spec §4.2 int4 channelwise; q4_1:
// ggml's asymmetric Q4_1; bf16 / f32: unquantized.
enum class Scheme { kQ4G32, kQ4CW, kQ4_1, kBF16, kF32 };

const char* scheme_name(Scheme scheme);  // "q4g32", "q4cw", "q4_1", "bf16", "f32"
std::optional<Scheme> parse_scheme(std::string_view name);
// Every scheme's name, in declaration order (for a command line's choices).
std::vector<std::string> scheme_names();
// "q4g32, q4cw, q4_1, bf16 or f32", for messages.
std::string scheme_choices_text();
// True for the int4 schemes.
bool is_int4(Scheme scheme);

// Storage of the keys and values of past positions.
enum class KvCacheType { kF32, kInt8 };

const char* kv_cache_name(KvCacheType type);  // "f32", "int8"
std::optional<KvCacheType> parse_kv_cache(std::string_view name);
// What a scheme's model file uses when its index names no KV-cache type (files
// written before the field existed): int8 (spec §4.4) for q4g32 and q4_1.
KvCacheType default_kv_cache(Scheme scheme);

}  // namespace mobilellm::format
