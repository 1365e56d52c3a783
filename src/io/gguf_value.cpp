// Typed access to GGUF metadata: each accessor accepts exactly the value types
// it can represent without loss and names the file, the key and both types
// otherwise.
#include <cstring>
#include <limits>
#include <string>

#include "io/gguf.h"
#include "runtime/error.h"

namespace mobilellm::io {

namespace {

bool is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64: return true;
    default: return false;
  }
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

const char* gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8: return "u8";
    case GgufValueType::kInt8: return "i8";
    case GgufValueType::kUint16: return "u16";
    case GgufValueType::kInt16: return "i16";
    case GgufValueType::kUint32: return "u32";
    case GgufValueType::kInt32: return "i32";
    case GgufValueType::kFloat32: return "f32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kUint64: return "u64";
    case GgufValueType::kInt64: return "i64";
    case GgufValueType::kFloat64: return "f64";
  }
  return "?";
}

size_t gguf_value_type_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32: return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64: return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray: return 0;
  }
  return 0;
}

std::string GgufValue::type_description() const {
  if (type_ != GgufValueType::kArray) return gguf_value_type_name(type_);
  return std::string("array of ") + gguf_value_type_name(element_type_);
}

void GgufValue::mismatch(const char* wanted) const {
  throw Error(where_ + " is " + type_description() + ", expected " + wanted);
}

GgufValueType GgufValue::array_type() const {
  if (type_ != GgufValueType::kArray) mismatch("an array");
  return element_type_;
}

uint64_t GgufValue::array_size() const {
  if (type_ != GgufValueType::kArray) mismatch("an array");
  return count_;
}

int64_t GgufValue::int_at(GgufValueType type, const uint8_t* p) const {
  switch (type) {
    case GgufValueType::kUint8: return load<uint8_t>(p);
    case GgufValueType::kInt8: return load<int8_t>(p);
    case GgufValueType::kUint16: return load<uint16_t>(p);
    case GgufValueType::kInt16: return load<int16_t>(p);
    case GgufValueType::kUint32: return load<uint32_t>(p);
    case GgufValueType::kInt32: return load<int32_t>(p);
    case GgufValueType::kInt64: return load<int64_t>(p);
    case GgufValueType::kUint64: {
      const uint64_t v = load<uint64_t>(p);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw Error(where_ + ": u64 value " + std::to_string(v) + " does not fit in int64");
      }
      return static_cast<int64_t>(v);
    }
    default: mismatch("an integer");
  }
}

int64_t GgufValue::as_int() const {
  if (!is_integer(type_)) mismatch("an integer");
  return int_at(type_, raw_);
}

double GgufValue::as_float() const {
  if (type_ == GgufValueType::kFloat32) return load<float>(raw_);
  if (type_ == GgufValueType::kFloat64) return load<double>(raw_);
  mismatch("f32 or f64");
}

bool GgufValue::as_bool() const {
  if (type_ != GgufValueType::kBool) mismatch("bool");
  return raw_[0] != 0;
}

const std::string& GgufValue::as_string() const {
  if (type_ != GgufValueType::kString) mismatch("string");
  return strings_.front();
}

std::vector<int64_t> GgufValue::as_int_array() const {
  if (type_ != GgufValueType::kArray || !is_integer(element_type_)) mismatch("an array of integers");
  const size_t size = gguf_value_type_size(element_type_);
  std::vector<int64_t> out(count_);
  for (uint64_t i = 0; i < count_; ++i) out[i] = int_at(element_type_, raw_ + i * size);
  return out;
}

std::vector<float> GgufValue::as_float_array() const {
  std::vector<float> out;
  if (type_ == GgufValueType::kArray && element_type_ == GgufValueType::kFloat32) {
    out.resize(count_);
    if (count_ > 0) std::memcpy(out.data(), raw_, count_ * 4);
  } else if (type_ == GgufValueType::kArray && element_type_ == GgufValueType::kFloat64) {
    out.resize(count_);
    for (uint64_t i = 0; i < count_; ++i) out[i] = static_cast<float>(load<double>(raw_ + 8 * i));
  } else {
    mismatch("an array of f32 or f64");
  }
  return out;
}

const std::vector<std::string>& GgufValue::as_string_array() const {
  if (type_ != GgufValueType::kArray || element_type_ != GgufValueType::kString) mismatch("an array of string");
  return strings_;
}

std::vector<bool> GgufValue::as_bool_array() const {
  if (type_ != GgufValueType::kArray || element_type_ != GgufValueType::kBool) mismatch("an array of bool");
  return std::vector<bool>(raw_, raw_ + count_);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = value_index_.find(key);
  return it == value_index_.end() ? nullptr : &values_[it->second];
}

const GgufValue& GgufFile::require(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) throw Error(path_.string() + ": missing key \"" + std::string(key) + "\"");
  return *v;
}

std::string GgufFile::get_string(std::string_view key) const { return require(key).as_string(); }
int64_t GgufFile::get_int(std::string_view key) const { return require(key).as_int(); }
double GgufFile::get_float(std::string_view key) const { return require(key).as_float(); }
bool GgufFile::get_bool(std::string_view key) const { return require(key).as_bool(); }
std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  return require(key).as_string_array();
}
std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const { return require(key).as_int_array(); }
std::vector<float> GgufFile::get_float_array(std::string_view key) const { return require(key).as_float_array(); }

std::string GgufFile::get_string_or(std::string_view key, const std::string& fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_string();
}
int64_t GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_int();
}
double GgufFile::get_float_or(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_float();
}
bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : v->as_bool();
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace mobilellm::io
