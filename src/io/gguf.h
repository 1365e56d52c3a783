#pragma once
// Reader for GGUF files (llama.cpp's model format, versions 2 and 3): the
// whole header is validated when the file is opened, so every later access is
// plain lookups into memory. Tensor data stays in the memory map. See
// docs/GGUF.md for the layout and each rule the reader enforces.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/mapped_file.h"

namespace mobilellm::io {

// The ggml tensor types this reader accepts (values as in ggml.h's ggml_type).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

const char* ggml_type_name(GgmlType type);   // "Q4_1"
int64_t ggml_block_elements(GgmlType type);  // 32 or 256 for quantized types, 1 for float types
int64_t ggml_block_bytes(GgmlType type);     // bytes of one block
// Name of any type id ggml defines ("Q5_0"), supported here or not; nullptr for ids it never defined.
const char* ggml_type_id_name(uint32_t id);
std::optional<GgmlType> supported_ggml_type(uint32_t id);  // the id as a GgmlType when this reader supports it

struct GgufTensor {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous dimension (columns of a row-major matrix)
  GgmlType type;
  const uint8_t* data;  // into the mapping, aligned to the file's general.alignment
  uint64_t nbytes;
  uint64_t offset;  // of data inside the data section, as the file states it
  int64_t elements() const;
};

// Value types of the key-value metadata (values as in gguf.h's gguf_type).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

const char* gguf_value_type_name(GgufValueType type);  // "u32", "string", "array", ...
size_t gguf_value_type_size(GgufValueType type);       // bytes of a fixed-size value; 0 for string and array

// One metadata value: a scalar, or an array of scalars or strings (arrays of
// arrays are rejected at open, as llama.cpp does). Numbers are decoded from the
// mapping on access; the accessors throw Error naming the file and the key when
// the value is of another type.
class GgufValue {
 public:
  const std::string& key() const { return key_; }
  GgufValueType type() const { return type_; }
  GgufValueType array_type() const;      // element type; Error when not an array
  uint64_t array_size() const;           // Error when not an array
  std::string type_description() const;  // "u32" or "array of string"

  int64_t as_int() const;   // any integer type; a u64 above INT64_MAX is an Error
  double as_float() const;  // f32 or f64
  bool as_bool() const;
  const std::string& as_string() const;
  std::vector<int64_t> as_int_array() const;  // array of any integer type, range-checked like as_int
  std::vector<float> as_float_array() const;  // array of f32 (or f64, rounded to float)
  const std::vector<std::string>& as_string_array() const;
  std::vector<bool> as_bool_array() const;

 private:
  friend class GgufParser;
  [[noreturn]] void mismatch(const char* wanted) const;
  int64_t int_at(GgufValueType type, const uint8_t* p) const;

  std::string where_;  // "<path>: key \"<key>\"", for messages
  std::string key_;
  GgufValueType type_ = GgufValueType::kUint8;
  GgufValueType element_type_ = GgufValueType::kUint8;  // for arrays
  uint64_t count_ = 1;                                  // elements of an array, 1 for a scalar
  const uint8_t* raw_ = nullptr;                        // numeric scalar or array elements, in the file
  std::vector<std::string> strings_;                    // a string scalar (one) or a string array
};

class GgufFile {
 public:
  // Memory-maps and validates the whole header; throws mobilellm::Error naming the path and the exact violation.
  static std::shared_ptr<const GgufFile> open(const std::filesystem::path& path);
  // Validates a file already in memory; `bytes` must outlive the result. `path` is used in messages.
  // (The fuzz target's entry point.)
  static std::shared_ptr<const GgufFile> parse(std::span<const uint8_t> bytes, const std::filesystem::path& path);

  uint32_t version() const { return version_; }
  const std::filesystem::path& path() const { return path_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // where the tensor data section starts

  const std::vector<GgufValue>& metadata() const { return values_; }  // in file order
  const GgufValue* find(std::string_view key) const;                  // nullptr when absent

  // Typed getters: throw Error naming the key when missing or of the wrong type.
  std::string get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;   // any integer type, range-checked
  double get_float(std::string_view key) const;  // f32/f64
  bool get_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;
  // The same for optional keys: `fallback` when absent, Error when present with the wrong type.
  std::string get_string_or(std::string_view key, const std::string& fallback) const;
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }  // in file order
  const GgufTensor* find_tensor(std::string_view name) const;          // nullptr when absent

 private:
  friend class GgufParser;
  GgufFile() = default;
  const GgufValue& require(std::string_view key) const;

  std::filesystem::path path_;
  std::optional<MappedFile> mapping_;  // absent for parse()
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;  // GGUF_DEFAULT_ALIGNMENT, when general.alignment is absent
  uint64_t data_offset_ = 0;
  std::vector<GgufValue> values_;
  std::map<std::string, size_t, std::less<>> value_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Exact to ggml's reference dequantizers (ggml-quants.c dequantize_row_*).
// n is a multiple of the type's block size (Error otherwise).
void dequantize_row(GgmlType type, const void* src, int64_t n, float* dst);
// All of a tensor's elements as float, in ggml order (ne[0] fastest).
std::vector<float> dequantize(const GgufTensor& tensor);

bool is_gguf_file(const std::filesystem::path& path);  // magic "GGUF" at offset 0

// A GGUF file (version 3, no tensors) holding the metadata of `file` whose keys
// start with `key_prefix`: a converted model file carries its GGUF source's
// tokenizer.* metadata so.
std::string gguf_metadata_subset(const GgufFile& file, std::string_view key_prefix);

}  // namespace mobilellm::io
