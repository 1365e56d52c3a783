#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "io/gguf.h"
#include "runtime/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/chunking.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/loaders.h"
#include "tokenizer/sentencepiece.h"
#include "tokenizer/splitter.h"
#include "tokenizer/utf8.h"

namespace mobilellm {

using namespace tokenizer;

struct Tokenizer::Impl {
  explicit Impl(TokenizerData d);

  // `text` starts the input or follows an added token.
  void encode_ordinary(std::string_view text, std::vector<std::string_view>& pieces, std::vector<int32_t>& out) const {
    if (spm) {
      // llama.cpp: every non-empty fragment gets the space prefix.
      if (text.empty()) return;
      if (add_space_prefix) {
        std::string prefixed(1, ' ');
        prefixed.append(text);
        spm->encode(prefixed, out);
      } else {
        spm->encode(text, out);
      }
      return;
    }
    pieces.clear();
    splitter->split(text, pieces);
    for (std::string_view p : pieces) bpe->encode(p, out);
  }

  std::unique_ptr<Vocab> vocab;
  // Byte-level BPE: a splitter and the encoder of its pieces.
  std::unique_ptr<MergeTable> merges;  // null: merge by rank (tiktoken)
  std::unique_ptr<BytePairEncoder> bpe;
  std::unique_ptr<Splitter> splitter;
  // SentencePiece instead (GGUF "llama"), on whole fragments between added tokens.
  std::unique_ptr<SentencePieceEncoder> spm;
  bool add_space_prefix = false;
  bool meta_chunking = true;
  int32_t eos_to_add = -1;
  bool default_add_bos = false, default_add_eos = false;
  AddedTokenMatcher all_added;    // parse_special = true
  AddedTokenMatcher plain_added;  // non-special added tokens, always matched (Hugging Face)
  std::vector<bool> special;
  int32_t bos = -1;
  std::vector<int32_t> eos;
  std::string chat_template, chat_template_origin, bos_token, eos_token;
};

Tokenizer::Impl::Impl(TokenizerData d) {
  size_t n = d.tokens.size();
  for (const AddedToken& a : d.added) n = std::max(n, static_cast<size_t>(a.id) + 1);
  d.tokens.resize(n);
  d.is_bpe.resize(n, false);
  special.assign(n, false);
  for (const AddedToken& a : d.added) {
    d.tokens[a.id] = a.text;
    special[a.id] = a.special;
  }
  vocab = std::make_unique<Vocab>(d.tokens, d.is_bpe);
  if (!d.scores.empty()) {
    spm = std::make_unique<SentencePieceEncoder>(*vocab, std::move(d.scores), std::move(d.byte_tokens), d.unk_id);
    add_space_prefix = d.add_space_prefix;
  } else {
    if (!d.merges.empty()) merges = std::make_unique<MergeTable>(d.merges);
    bpe = std::make_unique<BytePairEncoder>(*vocab, merges.get(), d.ignore_merges);
    splitter = make_splitter(d.patterns);
  }
  meta_chunking = d.meta_chunking;
  for (const AddedToken& a : d.added) {
    all_added.add(a.text, a.id);
    if (!a.special) plain_added.add(a.text, a.id);
  }

  auto id_of = [&](const std::string& text) { return text.empty() ? -1 : all_added.find(text); };
  bos = d.bos_id >= 0 ? d.bos_id : id_of(d.bos_token.empty() ? "<|begin_of_text|>" : d.bos_token);
  if (!d.stop_ids.empty()) {
    eos = d.stop_ids;
  } else {
    for (const char* stop : {"<|end_of_text|>", "<|eom|>", "<|eot|>"})
      if (int32_t id = id_of(stop); id >= 0) eos.push_back(id);
  }
  if (eos.empty()) {
    eos = d.config_eos_ids;
    if (int32_t id = id_of(d.eos_token); id >= 0 && std::find(eos.begin(), eos.end(), id) == eos.end())
      eos.push_back(id);
  }
  chat_template = std::move(d.chat_template);
  chat_template_origin = std::move(d.chat_template_origin);
  bos_token = bos >= 0 ? std::string(vocab->bytes(bos)) : std::string();
  eos_to_add = d.eos_id >= 0 ? d.eos_id : (eos.empty() ? -1 : eos.front());
  if (d.eos_id >= 0)
    eos_token = std::string(vocab->bytes(d.eos_id));
  else
    eos_token = d.eos_token.empty() && !eos.empty() ? std::string(vocab->bytes(eos.back())) : d.eos_token;
  // Files without the model's own choice: BOS when there is one (the Llama-4
  // convention), never EOS.
  default_add_bos = d.add_bos.value_or(bos >= 0);
  default_add_eos = d.add_eos.value_or(false);
}

namespace {

// A checkpoint's files: tokenizer.json (preferred) or tokenizer.model, then
// the checkpoint's configuration around it; or the tokenizer.gguf that a
// model file converted from a GGUF carries (io::gguf_metadata_subset).
TokenizerData load_checkpoint(const TokenizerFiles& files, const std::string& missing) {
  TokenizerData data;
  if (files.has(Tokenizer::kGgufTokenizerFile)) {
    const std::string bytes = files.read(Tokenizer::kGgufTokenizerFile);
    auto file = io::GgufFile::parse({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                    files.where(Tokenizer::kGgufTokenizerFile));
    return tokenizer_data_from_gguf(read_gguf_vocab(*file), files.where(Tokenizer::kGgufTokenizerFile));
  }
  if (files.has("tokenizer.json"))
    data = parse_hf_tokenizer_json(files.read("tokenizer.json"), files.where("tokenizer.json"));
  else if (files.has("tokenizer.model"))
    data = parse_tiktoken(files.read("tokenizer.model"), files.where("tokenizer.model"));
  else
    throw Error(files.origin() + ": no tokenizer.json or tokenizer.model " + missing);
  apply_checkpoint_config(files, data);
  return data;
}

}  // namespace

Tokenizer Tokenizer::load(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  TokenizerData data;
  if (fs::is_directory(path))
    data = load_checkpoint(TokenizerFiles(path), "in this directory");
  else if (!fs::exists(path))
    throw Error(path.string() + ": no such file or directory");
  else if (io::is_gguf_file(path))
    data = tokenizer_data_from_gguf(read_gguf_vocab(*io::GgufFile::open(path)), path.string());
  else if (path.extension() == ".json")
    data = parse_hf_tokenizer_json(read_file(path), path.string());
  else
    data = parse_tiktoken(read_file(path), path.string());
  return Tokenizer(std::make_shared<const Impl>(std::move(data)));
}

Tokenizer Tokenizer::load_files(const std::string& origin, const std::map<std::string, std::string>& files) {
  return Tokenizer(
      std::make_shared<const Impl>(load_checkpoint(TokenizerFiles(origin, files), "among its tokenizer files")));
}

Tokenizer Tokenizer::from_gguf_vocab(const tokenizer::GgufVocab& vocab, const std::string& origin) {
  return Tokenizer(std::make_shared<const Impl>(tokenizer_data_from_gguf(vocab, origin)));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::string repaired;
  if (size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    if (!options.lossy_utf8) throw Error("text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    repaired = replace_invalid_utf8(text);
    text = repaired;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (options.add_bos) {
    if (impl_->bos < 0) throw Error("this tokenizer has no BOS token");
    out.push_back(impl_->bos);
  }
  const AddedTokenMatcher& added = options.parse_special ? impl_->all_added : impl_->plain_added;
  std::vector<std::string_view> chunks, pieces;
  if (impl_->meta_chunking)
    split_chunks(text, chunks);
  else
    chunks.push_back(text);
  for (std::string_view chunk : chunks) {
    size_t pos = 0;
    while (!added.empty()) {
      AddedTokenMatcher::Match m = added.next(chunk, pos);
      if (m.pos == std::string_view::npos) break;
      impl_->encode_ordinary(chunk.substr(pos, m.pos - pos), pieces, out);
      out.push_back(m.id);
      pos = m.pos + m.len;
    }
    impl_->encode_ordinary(chunk.substr(pos), pieces, out);
  }
  if (options.add_eos) {
    if (impl_->eos_to_add < 0) throw Error("this tokenizer has no EOS token");
    out.push_back(impl_->eos_to_add);
  }
  return out;
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary (size " + std::to_string(vocab_size()) +
                ")");
  return impl_->vocab->bytes(id);
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) out += token_bytes(id);
  return out;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->vocab->size()); }
int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos_to_add; }
bool Tokenizer::default_add_bos() const { return impl_->default_add_bos; }
bool Tokenizer::default_add_eos() const { return impl_->default_add_eos; }
std::span<const int32_t> Tokenizer::eos_ids() const { return impl_->eos; }
bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && impl_->special[id]; }

std::optional<int32_t> Tokenizer::find_special(std::string_view text) const {
  int32_t id = impl_->all_added.find(text);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }
const std::string& Tokenizer::chat_template_origin() const { return impl_->chat_template_origin; }
const std::string& Tokenizer::bos_token() const { return impl_->bos_token; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_token; }

}  // namespace mobilellm
