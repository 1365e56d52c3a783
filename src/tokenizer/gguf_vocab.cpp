#include "tokenizer/gguf_vocab.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

#include "runtime/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/splitter.h"

namespace mobilellm::tokenizer {
namespace {

// The regexes of llama.cpp's llm_tokenizer_bpe, in the form of the models'
// own tokenizer.json where llama.cpp had to rewrite them for std::regex
// ((?i:'s|...) instead of '[sS]|...; the same language).
constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// llama.cpp's fallback for a missing or "default" pre-tokenizer, four stages.
constexpr std::array<std::string_view, 4> kDefaultPatterns = {
    R"([\p{P}\$\+<=>\^~\|]+)",
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
    R"(\p{N}+)",
    R"([0-9][0-9][0-9])",
};

bool one_of(const std::string& s, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

[[noreturn]] void fail(const std::string& origin, const std::string& key, const std::string& what) {
  throw Error(origin + ": " + key + ": " + what);
}

// "<0x41>" -> 0x41, else -1.
int byte_token_value(const std::string& text) {
  if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>') return -1;
  int v = 0;
  for (char c : text.substr(3, 2)) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// SentencePiece writes spaces as "▁" (U+2581).
std::string unescape_spaces(std::string_view s) {
  constexpr std::string_view kSpace = "\xE2\x96\x81";
  std::string out;
  for (size_t pos = 0; pos < s.size();) {
    if (s.substr(pos, kSpace.size()) == kSpace) {
      out += ' ';
      pos += kSpace.size();
    } else {
      out += s[pos++];
    }
  }
  return out;
}

// llama.cpp's end-of-generation tokens recognised by their text.
constexpr std::array<std::string_view, 11> kStopTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>",    "<end_of_turn>",   "<|endoftext|>",      "<|eom_id|>",
    "<EOT>",      "_<EOT>",     "<|return|>", "<|end_of_text|>", "<end_of_utterance>",
};

}  // namespace

std::vector<std::string> gguf_pre_tokenizer_patterns(const std::string& pre, const std::string& origin) {
  // Names llama.cpp maps to the same regexes (llama_vocab::impl::load).
  if (pre.empty() || pre == "default") return {kDefaultPatterns.begin(), kDefaultPatterns.end()};
  if (one_of(pre, {"llama3", "llama-v3", "llama-bpe"})) return {std::string(kLlama3Pattern)};
  if (one_of(pre, {"llama4", "gpt-4o"})) return {std::string(kLlama4Pattern)};
  if (one_of(pre, {"gpt-2", "gpt2"})) return {std::string(kGpt2Pattern)};
  if (one_of(pre, {"qwen2", "deepseek-r1-qwen", "megrez"})) return {std::string(kQwen2Pattern)};
  // smollm: digits one by one first, then GPT-2's regex inside each piece
  // (Hugging Face: Digits(individual_digits) then ByteLevel's own regex).
  if (one_of(pre, {"smollm", "starcoder"})) return {R"(\p{N})", std::string(kGpt2Pattern)};
  fail(origin, "tokenizer.ggml.pre",
       "pre-tokenizer \"" + pre + "\" is not supported (known: default, gpt2, llama-bpe, llama4, qwen2, smollm)");
}

TokenizerData tokenizer_data_from_gguf(const GgufVocab& v, const std::string& origin) {
  const bool bpe = v.model == "gpt2";
  if (!bpe && v.model != "llama")
    fail(origin, "tokenizer.ggml.model", "\"" + v.model + "\" is not supported (known: gpt2, llama)");
  const size_t n = v.tokens.size();
  if (n == 0) fail(origin, "tokenizer.ggml.tokens", "missing or empty");
  if (n > static_cast<size_t>(kMaxTokenId))
    fail(origin, "tokenizer.ggml.tokens",
         std::to_string(n) + " tokens is more than this engine allows (" + std::to_string(kMaxTokenId) + ")");
  if (!v.token_types.empty() && v.token_types.size() != n)
    fail(origin, "tokenizer.ggml.token_type",
         std::to_string(v.token_types.size()) + " entries for " + std::to_string(n) + " tokens");
  if (!v.scores.empty() && v.scores.size() != n)
    fail(origin, "tokenizer.ggml.scores",
         std::to_string(v.scores.size()) + " entries for " + std::to_string(n) + " tokens");
  auto type_of = [&](size_t id) {
    return v.token_types.empty() ? GgufTokenType::kNormal : static_cast<GgufTokenType>(v.token_types[id]);
  };
  auto id_key = [&](const std::optional<int64_t>& id, const char* key) -> int32_t {
    if (!id) return -1;
    if (*id < 0 || static_cast<uint64_t>(*id) >= n)
      fail(origin, key,
           "token id " + std::to_string(*id) + " is outside the vocabulary (" + std::to_string(n) + " tokens)");
    return static_cast<int32_t>(*id);
  };

  TokenizerData d;
  d.meta_chunking = false;
  d.tokens.resize(n);
  d.is_bpe.assign(n, false);
  if (!bpe) d.byte_tokens.assign(256, -1);
  for (size_t id = 0; id < n; ++id) {
    const std::string& text = v.tokens[id];
    std::string where = "tokenizer.ggml.tokens[" + std::to_string(id) + "]";
    if (text.empty()) fail(origin, where, "empty token");
    switch (type_of(id)) {
      case GgufTokenType::kNormal:
        if (bpe) {
          auto bytes = byte_level_decode(text);
          if (!bytes) fail(origin, where, "\"" + text + "\" is not a byte-level token");
          d.tokens[id] = std::move(*bytes);
        } else {
          d.tokens[id] = unescape_spaces(text);
        }
        d.is_bpe[id] = true;
        break;
      case GgufTokenType::kByte:
        // SentencePiece byte fallback "<0xNN>": stands for that byte.
        if (int b = byte_token_value(text); b >= 0 && !bpe) {
          d.tokens[id] = std::string(1, static_cast<char>(b));
          d.byte_tokens[b] = static_cast<int32_t>(id);
        } else {
          d.tokens[id] = text;
        }
        break;
      case GgufTokenType::kControl:
      case GgufTokenType::kUnknown:
        // Matched in the text only when special tokens are parsed (llama.cpp).
        d.tokens[id] = text;
        d.added.push_back({static_cast<int32_t>(id), text, true});
        break;
      case GgufTokenType::kUserDefined:
        // Always matched, before BPE.
        d.tokens[id] = text;
        d.added.push_back({static_cast<int32_t>(id), text, false});
        break;
      case GgufTokenType::kUnused: d.tokens[id] = text; break;
      default:
        fail(origin, "tokenizer.ggml.token_type[" + std::to_string(id) + "]",
             "unknown token type " + std::to_string(v.token_types[id]));
    }
  }

  if (bpe) {
    d.patterns = gguf_pre_tokenizer_patterns(v.pre, origin);
    // llama.cpp: the Llama-3 pre-tokenizer looks whole pieces up before merging.
    d.ignore_merges = one_of(v.pre, {"llama3", "llama-v3", "llama-bpe"});
    if (v.merges.empty()) fail(origin, "tokenizer.ggml.merges", "missing or empty (a gpt2 model needs its merges)");
    std::unordered_map<std::string_view, int32_t> by_text;  // the model's own spelling; first id wins
    for (size_t id = 0; id < n; ++id)
      if (d.is_bpe[id]) by_text.emplace(v.tokens[id], static_cast<int32_t>(id));
    d.merges.reserve(v.merges.size());
    for (size_t i = 0; i < v.merges.size(); ++i) {
      const std::string& m = v.merges[i];
      std::string where = "tokenizer.ggml.merges[" + std::to_string(i) + "]";
      size_t sp = m.find(' ', 1);  // llama.cpp splits at the first space after the first character
      if (sp == std::string::npos || sp + 1 == m.size())
        fail(origin, where, "expected \"left right\", got \"" + m + "\"");
      std::string left = m.substr(0, sp), right = m.substr(sp + 1);
      auto lookup = [&](const std::string& t) {
        auto it = by_text.find(t);
        if (it == by_text.end()) fail(origin, where, "\"" + t + "\" is not a token");
        return it->second;
      };
      d.merges.push_back({lookup(left), lookup(right), lookup(left + right), static_cast<uint32_t>(i)});
    }
  } else {
    if (v.scores.empty()) fail(origin, "tokenizer.ggml.scores", "missing (a llama model merges by score)");
    for (size_t id = 0; id < n; ++id)
      if (!std::isfinite(v.scores[id]))
        fail(origin, "tokenizer.ggml.scores[" + std::to_string(id) + "]", "not a finite number");
    d.scores = v.scores;
    size_t bytes = static_cast<size_t>(
        std::count_if(d.byte_tokens.begin(), d.byte_tokens.end(), [](int32_t id) { return id >= 0; }));
    if (bytes == 0)
      d.byte_tokens.clear();
    else if (bytes != 256)
      fail(origin, "tokenizer.ggml.tokens",
           "byte fallback tokens <0x00>..<0xFF>: " + std::to_string(bytes) + " of 256 present");
    d.add_space_prefix = v.add_space_prefix.value_or(true);
  }

  // Ids from the metadata; llama.cpp's defaults for SentencePiece.
  d.bos_id = id_key(v.bos_id, "tokenizer.ggml.bos_token_id");
  d.eos_id = id_key(v.eos_id, "tokenizer.ggml.eos_token_id");
  d.unk_id = id_key(v.unk_id, "tokenizer.ggml.unknown_token_id");
  id_key(v.pad_id, "tokenizer.ggml.padding_token_id");
  if (!bpe) {
    if (!v.bos_id && n > 1) d.bos_id = 1;
    if (!v.eos_id && n > 2) d.eos_id = 2;
    if (!v.unk_id) d.unk_id = 0;
    if (d.byte_tokens.empty() && d.unk_id < 0)
      fail(origin, "tokenizer.ggml.unknown_token_id", "needed: the vocabulary has no byte fallback tokens");
  }
  for (int32_t id :
       {d.eos_id, id_key(v.eot_id, "tokenizer.ggml.eot_token_id"), id_key(v.eom_id, "tokenizer.ggml.eom_token_id")})
    if (id >= 0 && std::find(d.stop_ids.begin(), d.stop_ids.end(), id) == d.stop_ids.end()) d.stop_ids.push_back(id);
  for (size_t id = 0; id < n; ++id)
    if (std::find(kStopTexts.begin(), kStopTexts.end(), v.tokens[id]) != kStopTexts.end() &&
        std::find(d.stop_ids.begin(), d.stop_ids.end(), static_cast<int32_t>(id)) == d.stop_ids.end())
      d.stop_ids.push_back(static_cast<int32_t>(id));
  // llama.cpp's defaults (SentencePiece and Llama-3 add BOS), then the metadata.
  d.add_bos = v.add_bos.value_or(!bpe || one_of(v.pre, {"llama3", "llama-v3", "llama-bpe"}));
  d.add_eos = v.add_eos.value_or(false);
  if (*d.add_bos && d.bos_id < 0) fail(origin, "tokenizer.ggml.add_bos_token", "set, but there is no bos_token_id");
  if (*d.add_eos && d.eos_id < 0) fail(origin, "tokenizer.ggml.add_eos_token", "set, but there is no eos_token_id");
  d.chat_template = v.chat_template;
  return d;
}

}  // namespace mobilellm::tokenizer
