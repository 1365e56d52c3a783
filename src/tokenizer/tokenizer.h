#pragma once
// The tokenizer of the public API (include/mobilellm/tokenizer.h) and what
// the tools add to it.
#include <filesystem>

#include "mobilellm/tokenizer.h"

namespace mobilellm {

// Writes the tokenizer files of `source` (a tokenizer.model, tokenizer.json
// or checkpoint directory) into `checkpoint_dir` the way Hugging Face
// releases lay them out, so that Tokenizer::load(checkpoint_dir) gives the
// same ids as Tokenizer::load(source).
void install_tokenizer_files(const std::filesystem::path& source, const std::filesystem::path& checkpoint_dir);

}  // namespace mobilellm
