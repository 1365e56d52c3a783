#pragma once
// Reader for Hugging Face safetensors checkpoints: one model.safetensors, or
// shards listed by model.safetensors.index.json. Everything in each header is
// validated before a tensor is handed out; each violation is an Error that
// names the file and the tensor.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace mobilellm::io {

struct TensorEntry {
  std::string name;
  std::string dtype;  // as written in the header: "BF16", "F16", "F32", "I8", ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping
  size_t nbytes = 0;
  std::filesystem::path file;
  int64_t numel() const;
};

class SafetensorsArchive {
 public:
  // dir_or_file: a checkpoint directory (model.safetensors or the sharded index) or one .safetensors file.
  static SafetensorsArchive open(const std::filesystem::path& dir_or_file);

  // Adds or replaces a tensor whose bytes live elsewhere (a GGUF file's
  // tensors under Hugging Face names, rows re-ordered at load); `owner` keeps
  // that memory alive as long as the archive.
  void put(TensorEntry entry, std::shared_ptr<const void> owner = nullptr);

  const TensorEntry* find(const std::string& name) const;  // nullptr if absent
  const std::map<std::string, TensorEntry>& tensors() const { return tensors_; }
  // The "__metadata__" of the (first) file's header.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorEntry> tensors_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::shared_ptr<const void>> owners_;
};

// Parses and validates one file already in memory (also the fuzz entry point).
// Appends its tensors to `out`; `file` is used in messages and stored in entries.
void parse_safetensors(const uint8_t* data, size_t size, const std::filesystem::path& file,
                       std::map<std::string, TensorEntry>& out, std::map<std::string, std::string>* metadata);

// Writes a safetensors file (used by make-random, the converter and tests).
struct TensorToWrite {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};
void write_safetensors(const std::filesystem::path& file, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace mobilellm::io
