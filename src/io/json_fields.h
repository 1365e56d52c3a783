#pragma once
// Typed reading of the fields of one JSON object from a file (config.json, a
// model file's index): every failure is an Error naming the object and the
// field, e.g. `config.json: "hidden_size" must be positive, got 0`.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mobilellm {

class JsonFields {
 public:
  // `where` names the object in messages ("config.json", "m.mllm: tensor 3").
  // Throws Error when `object` is not a JSON object.
  JsonFields(const nlohmann::json& object, std::string where);

  // Present and not null.
  bool has(const char* key) const;
  // The value of a field that must be there (null counts as there).
  const nlohmann::json& get(const char* key) const;

  // Required fields.
  std::string string(const char* key) const;
  int64_t integer(const char* key) const;  // a float with an integer value counts
  int64_t positive(const char* key) const;
  uint64_t unsigned_integer(const char* key) const;  // an integer ≥ 0 as JSON stores it
  // Optional fields: `fallback` when absent or null.
  std::string string(const char* key, const std::string& fallback) const;
  int64_t integer(const char* key, int64_t fallback) const;
  int64_t positive(const char* key, int64_t fallback) const;
  double number(const char* key, double fallback) const;  // finite
  bool boolean(const char* key, bool fallback) const;
  // An integer or a list of integers (eos_token_id is either); empty when absent.
  std::vector<int64_t> id_list(const char* key) const;

  // `<where>: "<key>" <what>`
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  // `<where> <what>`, for a failure of the object as a whole.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  int64_t as_integer(const nlohmann::json& v, const std::string& key) const;

  const nlohmann::json& object_;
  std::string where_;
};

}  // namespace mobilellm
