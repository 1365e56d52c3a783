// Fills a GgufVocab from a GGUF file's metadata: the one place the tokenizer
// meets the GGUF reader.
#include <limits>

#include "io/gguf.h"
#include "runtime/error.h"
#include "tokenizer/gguf_vocab.h"

namespace mobilellm::tokenizer {

GgufVocab read_gguf_vocab(const io::GgufFile& file) {
  GgufVocab v;
  v.model = file.get_string("tokenizer.ggml.model");
  v.pre = file.get_string_or("tokenizer.ggml.pre", "");
  v.tokens = file.get_string_array("tokenizer.ggml.tokens");
  if (file.find("tokenizer.ggml.token_type")) {
    for (int64_t t : file.get_int_array("tokenizer.ggml.token_type")) {
      if (t < std::numeric_limits<int32_t>::min() || t > std::numeric_limits<int32_t>::max())
        throw Error(file.path().string() + ": tokenizer.ggml.token_type: unknown token type " + std::to_string(t));
      v.token_types.push_back(static_cast<int32_t>(t));
    }
  }
  if (file.find("tokenizer.ggml.scores")) v.scores = file.get_float_array("tokenizer.ggml.scores");
  if (file.find("tokenizer.ggml.merges")) v.merges = file.get_string_array("tokenizer.ggml.merges");
  auto id = [&](const char* key, std::optional<int64_t>& out) {
    if (file.find(key)) out = file.get_int(key);
  };
  id("tokenizer.ggml.bos_token_id", v.bos_id);
  id("tokenizer.ggml.eos_token_id", v.eos_id);
  id("tokenizer.ggml.eot_token_id", v.eot_id);
  id("tokenizer.ggml.eom_token_id", v.eom_id);
  id("tokenizer.ggml.padding_token_id", v.pad_id);
  id("tokenizer.ggml.unknown_token_id", v.unk_id);
  auto flag = [&](const char* key, std::optional<bool>& out) {
    if (file.find(key)) out = file.get_bool(key);
  };
  flag("tokenizer.ggml.add_bos_token", v.add_bos);
  flag("tokenizer.ggml.add_eos_token", v.add_eos);
  flag("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  v.chat_template = file.get_string_or("tokenizer.chat_template", "");
  return v;
}

}  // namespace mobilellm::tokenizer
