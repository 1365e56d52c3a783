#pragma once
// Parsing and validating OpenAI request bodies into typed requests. Every
// wrong type or out-of-range value is an ApiError (400) naming the parameter;
// fields the server does not use are ignored, as vLLM does.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mobilellm/engine.h"
#include "server/json.h"

namespace mobilellm::server {

// Settings shared by /v1/chat/completions and /v1/completions.
struct CommonParams {
  std::optional<int64_t> max_tokens;  // absent: the endpoint's default
  Sampling sampling;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;        // stream_options.include_usage
  bool ignore_eos = false;           // end-of-turn ids do not end the answer (llama-server's and vLLM's ignore_eos)
  std::optional<int64_t> draft_max;  // speculative decoding; absent: the server's default (serve --draft-max)
};

struct ToolDef {
  std::string name, description;
  Json parameters;  // JSON Schema; null when absent
};

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };
enum class ResponseFormat { kText, kJsonObject, kJsonSchema };

struct ChatRequest {
  std::vector<ChatMessage> messages;  // "developer" is read as system
  std::vector<ToolDef> tools;
  std::string tools_json;  // the tools as Engine::render_chat takes them (JSON text); empty when none
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_name;  // kNamed
  ResponseFormat response_format = ResponseFormat::kText;
  Json schema;  // kJsonSchema
  bool logprobs = false;
  int top_logprobs = 0;
  CommonParams common;
};

// A prompt as text or as token ids.
using Prompt = std::variant<std::string, std::vector<int32_t>>;

struct CompletionRequest {
  std::vector<Prompt> prompts;  // one choice each
  bool echo = false;
  int logprobs = -1;  // -1: none
  CommonParams common;
};

// `defaults` supplies sampling settings the request leaves out.
ChatRequest parse_chat_request(const Json& body, const Sampling& defaults);
CompletionRequest parse_completion_request(const Json& body, const Sampling& defaults, int64_t vocab_size);

}  // namespace mobilellm::server
