#pragma once
// OpenAI response objects: chat completions and their stream chunks, legacy
// completions with their logprobs, usage. Token strings that are not whole
// UTF-8 characters are shown as "bytes:\xNN…", and `bytes` lists them exactly.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mobilellm/engine.h"
#include "server/json.h"

namespace mobilellm::server {

std::string random_id(const std::string& prefix);  // "chatcmpl-…", "cmpl-…", "call_…"

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

// Chat: choices[0].logprobs = {"content": [entries]}.
Json chat_logprob_entry(const Tokenizer& tokenizer, const TokenLogprob& lp);

// The legacy completions logprobs object, built one token at a time.
class LegacyLogprobs {
 public:
  // start: the character offset of the first token (streamed chunks continue the text).
  explicit LegacyLogprobs(const Tokenizer& tokenizer, int64_t start = 0) : tokenizer_(tokenizer), offset_(start) {}
  // A token without a logprob (the first prompt token) has a null entry.
  void add(int32_t id, const TokenLogprob* lp);
  Json json() const;
  int64_t end_offset() const { return offset_; }

 private:
  const Tokenizer& tokenizer_;
  Json tokens_ = Json::array(), token_logprobs_ = Json::array(), top_logprobs_ = Json::array(),
       text_offset_ = Json::array();
  int64_t offset_;  // characters so far
};

// The display string of one token.
std::string token_string(const Tokenizer& tokenizer, int32_t id);

}  // namespace mobilellm::server
