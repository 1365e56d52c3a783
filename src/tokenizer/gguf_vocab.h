#pragma once
// A tokenizer as a GGUF file stores it in its tokenizer.* metadata, held as
// plain values so that the tokenizer does not depend on the GGUF reader
// (read_gguf_vocab fills it from a file). Keys and meanings follow
// llama.cpp's llama-vocab.cpp and gguf-py's constants.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_data.h"

namespace mobilellm::io {
class GgufFile;
}

namespace mobilellm::tokenizer {

// tokenizer.ggml.token_type values (gguf-py TokenType).
enum class GgufTokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct GgufVocab {
  std::string model;                 // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;                   // tokenizer.ggml.pre: the pre-tokenizer of a "gpt2" model; empty = "default"
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens, index = id
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type (GgufTokenType); empty: all normal
  std::vector<float> scores;         // tokenizer.ggml.scores (SentencePiece merge priorities)
  std::vector<std::string> merges;   // tokenizer.ggml.merges, "left right", rank = index
  std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, pad_id, unk_id;
  std::optional<bool> add_bos, add_eos;  // tokenizer.ggml.add_bos_token / add_eos_token
  std::optional<bool> add_space_prefix;  // tokenizer.ggml.add_space_prefix (SentencePiece)
  std::string chat_template;             // tokenizer.chat_template
};

// The tokenizer.* metadata of `file`; Error naming the file and the key when
// one is missing or of the wrong type.
GgufVocab read_gguf_vocab(const io::GgufFile& file);

// The split regexes of a "gpt2" model's pre-tokenizer, applied in turn as
// llama.cpp applies its regex_exprs (each splits the pieces of the one
// before; text between matches stays a piece of its own). Throws
// mobilellm::Error naming `origin` for a pre-tokenizer it does not know.
std::vector<std::string> gguf_pre_tokenizer_patterns(const std::string& pre, const std::string& origin);

// Checks `vocab` and turns it into the loader form. Throws mobilellm::Error
// naming `origin` and the key at fault.
TokenizerData tokenizer_data_from_gguf(const GgufVocab& vocab, const std::string& origin);

}  // namespace mobilellm::tokenizer
