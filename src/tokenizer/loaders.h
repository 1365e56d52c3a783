#pragma once
// Readers for the tokenizer file formats. Each throws mobilellm::Error naming
// the file and the line or JSON path at fault.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_data.h"

namespace mobilellm::tokenizer {

// A checkpoint's tokenizer files by name: read from a directory, or held in
// memory (the tokenizer blobs of a converted model file).
class TokenizerFiles {
 public:
  explicit TokenizerFiles(std::filesystem::path dir) : dir_(std::move(dir)), origin_(dir_.string()) {}
  // `files` must outlive this object.
  TokenizerFiles(std::string origin, const std::map<std::string, std::string>& files)
      : origin_(std::move(origin)), files_(&files) {}

  bool has(const std::string& name) const;
  std::string read(const std::string& name) const;
  // How messages name a file: "dir/name", or "origin (name)" in memory.
  std::string where(const std::string& name) const;
  const std::string& origin() const { return origin_; }

 private:
  std::filesystem::path dir_;
  std::string origin_;
  const std::map<std::string, std::string>* files_ = nullptr;
};

// tiktoken ranks: "<base64 bytes> <rank>" per line, ranks 0, 1, 2, ... in
// order. `where` names the text in messages.
TokenizerData parse_tiktoken(std::string_view text, const std::string& where);

// The 2,048 Llama-4 special tokens, in id order after the ranks, named by the
// scheme of llama-models' tokenizer.py (see shared/data/llama4-tokenizer/SOURCE.md).
std::vector<std::string> llama4_special_tokens();

// Hugging Face tokenizer.json with a byte-level BPE model.
TokenizerData parse_hf_tokenizer_json(std::string_view text, const std::string& where);

// Reads tokenizer_config.json, special_tokens_map.json, chat_template.jinja,
// generation_config.json and config.json from `files` where present.
void apply_checkpoint_config(const TokenizerFiles& files, TokenizerData& data);

// A tokenizer file (tokenizer.json, tokenizer.model, tokenizer_config.json, chat template), bounded.
std::string read_file(const std::filesystem::path& path);

}  // namespace mobilellm::tokenizer
