#include "format/scheme.h"

#include <array>
#include <utility>

namespace mobilellm::format {
namespace {

constexpr std::array<std::pair<Scheme, const char*>, 5> kSchemes{{
    {Scheme::kQ4G32, "q4g32"},
    {Scheme::kQ4CW, "q4cw"},
    {Scheme::kQ4_1, "q4_1"},
    {Scheme::kBF16, "bf16"},
    {Scheme::kF32, "f32"},
}};

constexpr std::array<std::pair<KvCacheType, const char*>, 2> kKvCacheTypes{{
    {KvCacheType::kF32, "f32"},
    {KvCacheType::kInt8, "int8"},
}};

}  // namespace

const char* scheme_name(Scheme scheme) {
  for (const auto& [s, name] : kSchemes)
    if (s == scheme) return name;
  return "?";
}

std::optional<Scheme> parse_scheme(std::string_view name) {
  for (const auto& [s, n] : kSchemes)
    if (name == n) return s;
  return std::nullopt;
}

std::vector<std::string> scheme_names() {
  std::vector<std::string> names;
  for (const auto& entry : kSchemes) names.emplace_back(entry.second);
  return names;
}

std::string scheme_choices_text() {
  std::string text;
  for (size_t i = 0; i < kSchemes.size(); ++i)
    text += (i == 0 ? "" : i + 1 == kSchemes.size() ? " or " : ", ") + std::string(kSchemes[i].second);
  return text;
}

bool is_int4(Scheme scheme) { return scheme == Scheme::kQ4G32 || scheme == Scheme::kQ4CW || scheme == Scheme::kQ4_1; }

const char* kv_cache_name(KvCacheType type) {
  for (const auto& [t, name] : kKvCacheTypes)
    if (t == type) return name;
  return "?";
}

std::optional<KvCacheType> parse_kv_cache(std::string_view name) {
  for (const auto& [t, n] : kKvCacheTypes)
    if (name == n) return t;
  return std::nullopt;
}

KvCacheType default_kv_cache(Scheme scheme) {
  return scheme == Scheme::kQ4G32 || scheme == Scheme::kQ4_1 ? KvCacheType::kInt8 : KvCacheType::kF32;
}

}  // namespace mobilellm::format
