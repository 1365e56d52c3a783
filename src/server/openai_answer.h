#pragma once
// The answers of the two generating endpoints without HTTP: a parsed request
// planned against the engine, run on a session and shaped as OpenAI response
// objects, whole or as stream chunks. The server's endpoints add slots, the
// client watch, metrics and server-sent events around them; the public
// OpenAIResponder (include/mobilellm/openai.h) uses them as they are.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/grammar_constraint.h"
#include "server/openai_request.h"

namespace mobilellm::server {

// What an answer needs from around it. The engine and the vocabulary outlive it.
struct AnswerContext {
  const Engine& engine;
  const chat::SortedVocab& vocab;  // for constrained decoding
  std::string model_name;          // the answers' "model"
  int64_t context;                 // of the session that runs the answer
};

// The number of tokens to generate: `requested`, or what the context leaves.
// Throws ApiError 400 when the prompt and the answer do not fit the context.
// `prompt_param` names the prompt in the error ("messages", "prompt").
int64_t completion_budget(int64_t context, int64_t prompt_tokens, std::optional<int64_t> requested,
                          const std::string& prompt_param);

// Sends one stream chunk; false once nobody listens (the answer is cancelled).
using ChunkSink = std::function<bool(const Json&)>;
// Sees each finished generation; false abandons the answer (nobody listens).
using ResultHook = std::function<bool(const GenerateResult&)>;

// One /v1/chat/completions answer. Throws ApiError for a request it refuses.
class ChatAnswer {
 public:
  ChatAnswer(const AnswerContext& context, const ChatRequest& request);
  ChatAnswer(const ChatAnswer&) = delete;
  ChatAnswer& operator=(const ChatAnswer&) = delete;

  const std::vector<int32_t>& prompt() const { return gen_.prompt; }
  void set_cancel(const std::atomic<bool>* cancel) { gen_.cancel = cancel; }
  bool streamed() const { return streamed_; }

  // Not streamed: the chat.completion object; null when `on_result` abandons it.
  Json whole(Session& session, const ResultHook& on_result = {});
  // Streamed: sends the role chunk, then the content as it comes (held back
  // while it may still be a tool call); returns the result.
  GenerateResult stream(Session& session, const ChunkSink& send);
  // After stream(): sends what was held back and returns the chunk with the
  // finish reason.
  Json last_chunk(const GenerateResult& result, const ChunkSink& send);
  Json usage_chunk(const GenerateResult& result) const;  // null unless stream_options.include_usage

 private:
  Json chunk(Json delta, const Json& finish, const Json& logprobs = nullptr) const;
  Json logprob_entries(const GenerateResult& result) const;
  bool flush_content(const ChunkSink& send, const std::string& text);

  const AnswerContext context_;
  GenerateRequest gen_;
  std::unique_ptr<chat::GrammarConstraint> constraint_;
  bool parse_tools_ = false;
  std::vector<std::string> tool_names_;
  bool logprobs_ = false, include_usage_ = false, streamed_ = false;
  std::string id_;
  int64_t created_;
  // While streaming: whether the answer may still turn out to be tool calls,
  // the text held back meanwhile, and logprob entries not yet sent.
  bool holding_ = false;
  std::string held_;
  Json pending_logprobs_ = Json::array();
};

// One /v1/completions answer: a choice per prompt (one when streamed).
// Throws ApiError for a request it refuses.
class CompletionAnswer {
 public:
  CompletionAnswer(const AnswerContext& context, CompletionRequest request);

  const std::vector<int32_t>& prompt() const { return prompts_[0]; }  // the first
  void set_cancel(const std::atomic<bool>* cancel) { base_.cancel = cancel; }
  bool streamed() const { return request_.common.stream; }

  // Not streamed: the text_completion object; null when `on_result` abandons it.
  Json whole(Session& session, const ResultHook& on_result = {});
  // Streamed: sends the echoed prompt (when asked), then the text as it comes.
  GenerateResult stream(Session& session, const ChunkSink& send);
  // The chunk with the finish reason (nothing is held back: `send` is unused).
  Json last_chunk(const GenerateResult& result, const ChunkSink& send) const;
  Json usage_chunk(const GenerateResult& result) const;  // null unless stream_options.include_usage

 private:
  Json chunk(Json choices) const;

  const AnswerContext context_;
  CompletionRequest request_;
  std::vector<std::vector<int32_t>> prompts_;
  GenerateRequest base_;
  std::string id_;
  int64_t created_;
};

}  // namespace mobilellm::server
