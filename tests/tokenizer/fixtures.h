#pragma once
// Paths and readers for the tokenizer test fixtures: the shared Llama-4 data
// and the reference outputs tools/reference/tokenizer writes into the build
// directory at test time.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace mobilellm::test {

inline std::filesystem::path data_dir() { return MOBILELLM_TOKENIZER_DATA; }
inline std::filesystem::path model_path() { return data_dir() / "tokenizer.model"; }
inline std::filesystem::path reference_dir() { return MOBILELLM_TOKENIZER_REFERENCE; }

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline uint32_t read_u32(const std::string& s, size_t& pos) {
  uint32_t v;
  std::memcpy(&v, s.data() + pos, 4);
  pos += 4;
  return v;
}

inline std::vector<std::string> read_docs(const std::filesystem::path& p) {
  std::string s = read_all(p);
  size_t pos = 0;
  std::vector<std::string> docs(read_u32(s, pos));
  for (auto& d : docs) {
    uint32_t n = read_u32(s, pos);
    d = s.substr(pos, n);
    pos += n;
  }
  return docs;
}

// Reference ids per document; nullopt where the reference left it out.
inline std::vector<std::optional<std::vector<int32_t>>> read_ids(const std::filesystem::path& p, size_t count) {
  std::string s = read_all(p);
  size_t pos = 0;
  std::vector<std::optional<std::vector<int32_t>>> all(count);
  for (auto& ids : all) {
    uint32_t n = read_u32(s, pos);
    if (n == 0xFFFFFFFFu) continue;
    ids.emplace(n);
    if (n) std::memcpy(ids->data(), s.data() + pos, n * 4);
    pos += n * 4;
  }
  return all;
}

}  // namespace mobilellm::test
