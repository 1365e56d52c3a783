#pragma once
// Builders for hand-made safetensors files, so each test states the exact
// header it feeds the reader.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "runtime/error.h"

namespace mobilellm::io::testing {

// 8-byte little-endian length, the header text as given, then `data_bytes` bytes 0, 1, 2, ...
inline std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) bytes.push_back(static_cast<uint8_t>(i));
  return bytes;
}

// The reader's message for `bytes` named `file`, or "" when they are accepted.
inline std::string parse_message(const std::vector<uint8_t>& bytes, const std::string& file = "m.safetensors") {
  std::map<std::string, TensorEntry> out;
  try {
    parse_safetensors(bytes.data(), bytes.size(), file, out, nullptr);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mobilellm-io-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace mobilellm::io::testing
