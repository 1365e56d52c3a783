#pragma once
// A byte-level GGUF builder, so each test states the exact header it feeds the
// reader (little-endian, the layout of docs/GGUF.md), and helpers to read the
// reader's verdict.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "runtime/error.h"

namespace mobilellm::io::testing {

class GgufBytes {
 public:
  template <typename T>
  GgufBytes& put(T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes.insert(bytes.end(), b, b + sizeof(T));
    return *this;
  }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& i64(int64_t v) { return put(v); }
  GgufBytes& str(const std::string& s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& raw(const std::vector<uint8_t>& b) {
    bytes.insert(bytes.end(), b.begin(), b.end());
    return *this;
  }
  // magic, version, tensor count, metadata count
  GgufBytes& header(int64_t n_tensors, int64_t n_values, uint32_t version = 3) {
    bytes.insert(bytes.end(), {'G', 'G', 'U', 'F'});
    return u32(version).i64(n_tensors).i64(n_values);
  }
  GgufBytes& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  GgufBytes& kv_string(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
  GgufBytes& tensor(const std::string& name, const std::vector<int64_t>& ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) i64(d);
    return u32(type).u64(offset);
  }
  // Zero bytes up to a multiple of `alignment`, then `n` data bytes 0, 1, 2, ...
  GgufBytes& data(size_t n, size_t alignment = 32) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(i));
    return *this;
  }

  std::vector<uint8_t> bytes;
};

// The reader's message for `bytes`, or "" when they are accepted.
inline std::string parse_message(const std::vector<uint8_t>& bytes, const std::string& file = "m.gguf") {
  try {
    GgufFile::parse(std::span<const uint8_t>(bytes.data(), bytes.size()), file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline std::shared_ptr<const GgufFile> parse(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(std::span<const uint8_t>(bytes.data(), bytes.size()), "m.gguf");
}

}  // namespace mobilellm::io::testing
