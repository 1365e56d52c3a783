// libFuzzer entry point over GgufFile::parse. The same function is replayed by
// tests/gguf (built with g++) over the seed corpus and deterministic mutations.
//
// A rejected input must come back as mobilellm::Error; any other exception
// escapes and counts as a crash. An accepted input must describe tensors that
// lie inside the buffer, agree with their shapes and types, and dequantize;
// every metadata value must be readable through the accessor for its type.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "io/gguf.h"
#include "runtime/error.h"

namespace {

using mobilellm::io::GgufValue;
using mobilellm::io::GgufValueType;

void read_value(const GgufValue& v) {
  const bool array = v.type() == GgufValueType::kArray;
  switch (array ? v.array_type() : v.type()) {
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64: array ? (void)v.as_float_array() : (void)v.as_float(); break;
    case GgufValueType::kBool: array ? (void)v.as_bool_array() : (void)v.as_bool(); break;
    case GgufValueType::kString: array ? (void)v.as_string_array() : (void)v.as_string(); break;
    case GgufValueType::kArray: std::abort();  // arrays of arrays are rejected by the parser
    default: try { array ? (void)v.as_int_array() : (void)v.as_int();
      } catch (const mobilellm::Error&) {
        // a u64 above INT64_MAX: the one accepted value an integer accessor refuses
        if ((array ? v.array_type() : v.type()) != GgufValueType::kUint64) std::abort();
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mobilellm::io;
  std::shared_ptr<const GgufFile> file;
  try {
    file = GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
  } catch (const mobilellm::Error&) {
    return 0;
  }
  for (const auto& v : file->metadata()) {
    read_value(v);
    if (file->find(v.key()) != &v) std::abort();
  }
  std::vector<float> values;
  for (const auto& t : file->tensors()) {
    const size_t offset = static_cast<size_t>(t.data - data);
    if (t.data < data || offset > size || t.nbytes > size - offset) std::abort();
    if (offset % file->alignment() != 0 || t.ne.empty() || t.ne.size() > 4) std::abort();
    const int64_t n = t.elements();
    if (n < 1 || n % ggml_block_elements(t.type) != 0) std::abort();
    if (static_cast<uint64_t>(n / ggml_block_elements(t.type) * ggml_block_bytes(t.type)) != t.nbytes) std::abort();
    if (file->find_tensor(t.name) != &t) std::abort();
    // Dequantize the first values (at most 4096) and the last block, so
    // AddressSanitizer checks both ends of the tensor against the buffer.
    const int64_t block = ggml_block_elements(t.type);
    const int64_t head = std::min<int64_t>(n, 4096) / block * block;
    values.resize(static_cast<size_t>(head));
    dequantize_row(t.type, t.data, head, values.data());
    dequantize_row(t.type, t.data + t.nbytes - ggml_block_bytes(t.type), block, values.data());
  }
  return 0;
}
