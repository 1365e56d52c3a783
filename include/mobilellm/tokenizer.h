#pragma once
// The Llama-4 tokenizer (spec §5): tiktoken-format tokenizer.model or
// Hugging Face tokenizer.json, byte-level BPE over the o200k-style split
// regex, special tokens, exact decoding and streaming decoding.
//
//   auto tok = Tokenizer::load("ckpt/");          // or tokenizer.model / tokenizer.json
//   std::vector<int32_t> ids = tok.encode("Hello", {.add_bos = true});
//   std::string text = tok.decode(ids);
//
// A Tokenizer is immutable after load, cheap to copy (shared state) and safe
// to use from many threads at once.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mobilellm {

namespace tokenizer {
struct GgufVocab;
}

struct EncodeOptions {
  bool add_bos = false;        // prepend bos_id()
  bool add_eos = false;        // append eos_id()
  bool parse_special = false;  // "<|eot|>" in the text becomes the special id, not plain text
  bool lossy_utf8 = false;     // invalid UTF-8 becomes U+FFFD instead of an Error
};

class Tokenizer {
 public:
  // `path` is a tokenizer.model (tiktoken ranks; gets the 2,048 Llama-4
  // special tokens), a tokenizer.json (Hugging Face), a GGUF file (its
  // tokenizer.* metadata, see from_gguf_vocab), or a checkpoint directory
  // holding a tokenizer.model or tokenizer.json (tokenizer.json preferred). In a directory,
  // tokenizer_config.json / special_tokens_map.json / chat_template.jinja add
  // tokens, BOS/EOS and the chat template. Throws mobilellm::Error naming the
  // file and line or JSON path of anything malformed.
  static Tokenizer load(const std::filesystem::path& path);
  // The same from a checkpoint directory's files held in memory by name (a
  // converted model file carries its tokenizer this way); `origin` names
  // them in messages.
  static Tokenizer load_files(const std::string& origin, const std::map<std::string, std::string>& files);
  // The name under which a model file converted from a GGUF keeps that file's
  // tokenizer.* metadata (a GGUF file without tensors).
  static constexpr const char* kGgufTokenizerFile = "tokenizer.gguf";
  // A GGUF file's tokenizer (its tokenizer.* metadata); `origin` names the
  // file in messages. Byte-level BPE ("gpt2", with llama.cpp's pre-tokenizers)
  // or SentencePiece ("llama"); docs/TOKENIZER.md.
  static Tokenizer from_gguf_vocab(const tokenizer::GgufVocab& vocab, const std::string& origin);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;

  // The exact bytes of the tokens (not necessarily valid UTF-8 on its own).
  // Throws on an id outside [0, vocab_size()).
  std::string decode(std::span<const int32_t> ids) const;
  std::string_view token_bytes(int32_t id) const;

  int32_t vocab_size() const;
  int32_t bos_id() const;  // -1 when there is none
  int32_t eos_id() const;  // the id add_eos appends; -1 when there is none
  // Whether the model wants BOS / EOS around a prompt (GGUF add_bos_token /
  // add_eos_token, tokenizer_config.json's add_bos_token; otherwise BOS when
  // there is one, no EOS).
  bool default_add_bos() const;
  bool default_add_eos() const;
  std::span<const int32_t> eos_ids() const;  // every id that ends generation
  bool is_special(int32_t id) const;
  std::optional<int32_t> find_special(std::string_view text) const;  // "<|eot|>" -> 200008

  // From the checkpoint (empty when none): the Jinja chat template and the
  // token texts templates refer to as bos_token / eos_token.
  const std::string& chat_template() const;
  const std::string& chat_template_origin() const;  // the file that holds it, for messages
  const std::string& bos_token() const;
  const std::string& eos_token() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Turns ids into text as they are generated: push() returns the text that is
// complete so far and not yet returned; bytes of a character split across
// tokens are held until the rest arrives. Output is always valid UTF-8
// (bytes that can never form a character become U+FFFD).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::string push(int32_t id);
  std::string flush();  // whatever is held, with an unfinished character as U+FFFD

 private:
  const Tokenizer& tokenizer_;
  std::string held_;
};

}  // namespace mobilellm
