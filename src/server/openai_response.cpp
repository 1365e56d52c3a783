#include "server/openai_response.h"

#include <cstdio>
#include <random>

namespace mobilellm::server {
namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && b < 0xC2)) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (n == 3) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0)) return false;  // overlong, surrogate
    }
    if (n == 4) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      if ((b == 0xF0 && b1 < 0x90) || b > 0xF4 || (b == 0xF4 && b1 >= 0x90)) return false;
    }
    i += n;
  }
  return true;
}

Json byte_list(std::string_view bytes) {
  Json out = Json::array();
  for (char c : bytes) out.push_back(static_cast<unsigned char>(c));
  return out;
}

}  // namespace

std::string random_id(const std::string& prefix) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return id;
}

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

std::string token_string(const Tokenizer& tokenizer, int32_t id) {
  const std::string_view bytes = tokenizer.token_bytes(id);
  if (valid_utf8(bytes)) return std::string(bytes);
  std::string out = "bytes:";
  for (char c : bytes) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
    out += hex;
  }
  return out;
}

Json chat_logprob_entry(const Tokenizer& tokenizer, const TokenLogprob& lp) {
  Json top = Json::array();
  for (const auto& [id, logprob] : lp.top)
    top.push_back({{"token", token_string(tokenizer, id)},
                   {"logprob", logprob},
                   {"bytes", byte_list(tokenizer.token_bytes(id))}});
  return {{"token", token_string(tokenizer, lp.id)},
          {"logprob", lp.logprob},
          {"bytes", byte_list(tokenizer.token_bytes(lp.id))},
          {"top_logprobs", top}};
}

void LegacyLogprobs::add(int32_t id, const TokenLogprob* lp) {
  tokens_.push_back(token_string(tokenizer_, id));
  text_offset_.push_back(offset_);
  for (char c : tokenizer_.token_bytes(id))
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++offset_;  // count characters, not bytes
  if (!lp) {
    token_logprobs_.push_back(nullptr);
    top_logprobs_.push_back(nullptr);
    return;
  }
  token_logprobs_.push_back(lp->logprob);
  Json top = Json::object();
  for (const auto& [alt, logprob] : lp->top) top[token_string(tokenizer_, alt)] = logprob;
  top_logprobs_.push_back(std::move(top));
}

Json LegacyLogprobs::json() const {
  return {{"tokens", tokens_},
          {"token_logprobs", token_logprobs_},
          {"top_logprobs", top_logprobs_},
          {"text_offset", text_offset_}};
}

}  // namespace mobilellm::server
