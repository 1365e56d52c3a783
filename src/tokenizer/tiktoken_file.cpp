#include <charconv>

#include "runtime/error.h"
#include "runtime/read_file.h"
#include "tokenizer/loaders.h"
#include "tokenizer/splitter.h"

namespace mobilellm::tokenizer {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict base64 (padded, no whitespace); false on anything else.
bool decode_base64(std::string_view s, std::string& out) {
  out.clear();
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t pad = s.ends_with("==") ? 2 : s.ends_with('=') ? 1 : 0;
  uint32_t acc = 0;
  for (size_t i = 0; i < s.size() - pad; ++i) {
    int v = base64_value(s[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
    }
  }
  if (pad == 2) {
    if (acc & 0xF) return false;  // non-canonical trailing bits
    out.push_back(static_cast<char>(acc >> 4));
  } else if (pad == 1) {
    if (acc & 0x3) return false;
    out.push_back(static_cast<char>(acc >> 10));
    out.push_back(static_cast<char>(acc >> 2));
  }
  return true;
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
  return read_file_bounded(path, kMaxTokenizerFileBytes, "tokenizer file");
}

TokenizerData parse_tiktoken(std::string_view text, const std::string& where_text) {
  TokenizerData data;
  data.patterns = {std::string(kLlama4Pattern)};
  std::string bytes;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    auto where = [&] { return where_text + ":" + std::to_string(line_no) + ": "; };
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
      throw Error(where() + "expected \"<base64> <rank>\"");
    if (!decode_base64(line.substr(0, sp), bytes)) throw Error(where() + "token is not valid base64");
    std::string_view rank_text = line.substr(sp + 1);
    int64_t rank = -1;
    auto [end, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size())
      throw Error(where() + "rank is not an integer");
    if (rank != static_cast<int64_t>(data.tokens.size()))
      throw Error(where() + "rank " + std::to_string(rank) + " out of order (expected " +
                  std::to_string(data.tokens.size()) + ")");
    data.tokens.push_back(bytes);
  }
  if (data.tokens.empty()) throw Error(where_text + ": no tokens");
  data.is_bpe.assign(data.tokens.size(), true);
  auto n_ranks = static_cast<int32_t>(data.tokens.size());
  std::vector<std::string> special = llama4_special_tokens();
  for (size_t i = 0; i < special.size(); ++i)
    data.added.push_back({n_ranks + static_cast<int32_t>(i), special[i], true});
  return data;
}

std::vector<std::string> llama4_special_tokens() {
  std::vector<std::string> t = {"<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>",
                                "<|fim_suffix|>"};
  auto reserved = [&](const std::string& kind, int first, int count) {
    for (int i = first; i < first + count; ++i)
      t.push_back("<|" + kind + "reserved_special_token_" + std::to_string(i) + "|>");
  };
  // Text post-training: 75.
  for (const char* s : {"<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>"}) t.push_back(s);
  reserved("text_post_train_", 0, 6);
  for (const char* s : {"<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>"}) t.push_back(s);
  reserved("text_post_train_", 8, 61);
  // Vision: 1,054.
  for (const char* s : {"<|image_start|>", "<|image_end|>"}) t.push_back(s);
  reserved("vision_", 0, 2);
  for (const char* s : {"<|tile_x_separator|>", "<|tile_y_separator|>"}) t.push_back(s);
  reserved("vision_", 2, 4);
  t.push_back("<|image|>");
  reserved("vision_", 6, 1);
  t.push_back("<|patch|>");
  reserved("vision_", 7, 1041);
  // Reasoning: 10.
  reserved("reasoning_", 0, 8);
  for (const char* s : {"<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"}) t.push_back(s);
  // The rest of the 2,048.
  reserved("", 0, 2048 - static_cast<int>(t.size()));
  return t;
}

}  // namespace mobilellm::tokenizer
