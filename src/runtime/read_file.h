#pragma once
// Reads a file the user named (tokenizer, config, template), refusing one
// larger than the caller expects: a wrong path such as /dev/zero or a huge
// file must give an error, not fill the memory.
#include <cstdint>
#include <filesystem>
#include <string>

namespace mobilellm {

// Limits well above any real file of each kind.
inline constexpr uint64_t kMaxConfigFileBytes = 16ull << 20;      // config.json, generation_config.json
inline constexpr uint64_t kMaxTokenizerFileBytes = 128ull << 20;  // tokenizer.json / .model, its config, templates

// The whole file, or Error naming the path when it cannot be read or holds
// more than `max_bytes` (`what` says what it should have been).
std::string read_file_bounded(const std::filesystem::path& path, uint64_t max_bytes, const char* what);

}  // namespace mobilellm
