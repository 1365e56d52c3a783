#pragma once
// Readers for the tokenizer file formats. Each throws mobilellm::Error naming
// the file and the line or JSON path at fault.
#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_data.h"

namespace mobilellm::tokenizer {

// tiktoken ranks: "<base64 bytes> <rank>" per line, ranks 0, 1, 2, ... in order.
TokenizerData load_tiktoken_file(const std::filesystem::path& path);

// The 2,048 Llama-4 special tokens, in id order after the ranks, named by the
// scheme of llama-models' tokenizer.py (see shared/data/llama4-tokenizer/SOURCE.md).
std::vector<std::string> llama4_special_tokens();

// Hugging Face tokenizer.json with a byte-level BPE model.
TokenizerData load_hf_tokenizer_json(const std::filesystem::path& path);

// Reads tokenizer_config.json, special_tokens_map.json, chat_template.jinja,
// generation_config.json and config.json from `dir` where present.
void apply_checkpoint_config(const std::filesystem::path& dir, TokenizerData& data);

std::string read_file(const std::filesystem::path& path);

}  // namespace mobilellm::tokenizer
