#include "io/json_fields.h"

#include <cmath>

#include "runtime/error.h"

namespace mobilellm {

using nlohmann::json;

JsonFields::JsonFields(const json& object, std::string where) : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) fail(std::string("must be a JSON object, got ") + object_.type_name());
}

bool JsonFields::has(const char* key) const {
  auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

const json& JsonFields::get(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end()) fail(key, "is missing");
  return *it;
}

std::string JsonFields::string(const char* key) const {
  const json& v = get(key);
  if (!v.is_string()) fail(key, "must be a string, got " + v.dump());
  return v.get<std::string>();
}

int64_t JsonFields::integer(const char* key) const { return as_integer(get(key), key); }

int64_t JsonFields::positive(const char* key) const {
  const int64_t v = integer(key);
  if (v <= 0) fail(key, "must be positive, got " + std::to_string(v));
  return v;
}

uint64_t JsonFields::unsigned_integer(const char* key) const {
  const json& v = get(key);
  if (!v.is_number_unsigned()) fail(key, "must be a non-negative integer, got " + v.dump());
  return v.get<uint64_t>();
}

std::string JsonFields::string(const char* key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

int64_t JsonFields::integer(const char* key, int64_t fallback) const { return has(key) ? integer(key) : fallback; }

int64_t JsonFields::positive(const char* key, int64_t fallback) const { return has(key) ? positive(key) : fallback; }

double JsonFields::number(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  const json& v = object_.at(key);
  if (!v.is_number()) fail(key, "must be a number, got " + std::string(v.type_name()));
  const double d = v.get<double>();
  if (!std::isfinite(d)) fail(key, "must be finite");
  return d;
}

bool JsonFields::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  const json& v = object_.at(key);
  if (!v.is_boolean()) fail(key, "must be true or false, got " + v.dump());
  return v.get<bool>();
}

std::vector<int64_t> JsonFields::id_list(const char* key) const {
  std::vector<int64_t> out;
  if (!has(key)) return out;
  const json& v = object_.at(key);
  if (!v.is_array()) return {as_integer(v, key)};
  for (size_t i = 0; i < v.size(); ++i)
    out.push_back(as_integer(v[i], std::string(key) + "[" + std::to_string(i) + "]"));
  return out;
}

void JsonFields::fail(const std::string& key, const std::string& what) const {
  throw Error(where_ + ": \"" + key + "\" " + what);
}

void JsonFields::fail(const std::string& what) const { throw Error(where_ + " " + what); }

int64_t JsonFields::as_integer(const json& v, const std::string& key) const {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  fail(key, "must be an integer, got " + v.dump());
}

}  // namespace mobilellm
