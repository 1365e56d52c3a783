#include "server/openai_answer.h"

#include <algorithm>
#include <ctime>

#include "chat/json_schema_grammar.h"
#include "chat/tool_calls.h"
#include "runtime/error.h"
#include "server/api_error.h"
#include "server/openai_response.h"

namespace mobilellm::server {
namespace {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

chat::Grammar grammar_for(const ChatRequest& r) {
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) {
    std::vector<chat::ToolSchema> tools;
    for (const auto& t : r.tools)
      if (r.tool_choice == ToolChoice::kRequired || t.name == r.tool_name) tools.push_back({t.name, t.parameters});
    try {
      return chat::tool_call_grammar(tools);
    } catch (const Error& e) {
      throw invalid_request(std::string("tool parameters: ") + e.what(), "tools");
    }
  }
  if (r.response_format == ResponseFormat::kJsonObject) return chat::json_object_grammar();
  try {
    return chat::json_schema_grammar(r.schema);
  } catch (const Error& e) {
    throw invalid_request(e.what(), "response_format.json_schema.schema");
  }
}

Json tool_calls_json(const std::vector<chat::ParsedToolCall>& calls, bool streamed) {
  Json out = Json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    Json call = {{"id", random_id("call_")},
                 {"type", "function"},
                 {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}};
    if (streamed) call["index"] = i;
    out.push_back(std::move(call));
  }
  return out;
}

bool is_stop_id(const GenerateRequest& gen, int32_t id) {
  return std::find(gen.stop_ids.begin(), gen.stop_ids.end(), id) != gen.stop_ids.end();
}

// Text is read the way Hugging Face tokenizers read it (special-token text is
// the special token) and gets one BOS unless it already starts with it.
std::vector<int32_t> tokenize_prompt(const Tokenizer& tokenizer, const Prompt& prompt) {
  if (const auto* ids = std::get_if<std::vector<int32_t>>(&prompt)) return *ids;
  std::vector<int32_t> ids =
      tokenizer.encode(std::get<std::string>(prompt), {.parse_special = true, .lossy_utf8 = true});
  if (tokenizer.bos_id() >= 0 && (ids.empty() || ids[0] != tokenizer.bos_id()))
    ids.insert(ids.begin(), tokenizer.bos_id());
  return ids;
}

// The prompt's own entries: the first token has no logprob.
void add_prompt_logprobs(LegacyLogprobs& lp, const std::vector<int32_t>& prompt, const GenerateResult& scored) {
  for (size_t i = 0; i < prompt.size(); ++i) lp.add(prompt[i], i == 0 ? nullptr : &scored.prompt_logprobs[i - 1]);
}

Json completion_choice(size_t index, std::string text, const Json& logprobs, const Json& finish) {
  return {{"index", index}, {"text", std::move(text)}, {"logprobs", logprobs}, {"finish_reason", finish}};
}

}  // namespace

int64_t completion_budget(int64_t context, int64_t prompt_tokens, std::optional<int64_t> requested,
                          const std::string& prompt_param) {
  if (prompt_tokens > context)
    throw invalid_request("this model's context length is " + std::to_string(context) + " tokens, but the prompt has " +
                              std::to_string(prompt_tokens) + " tokens; it is not truncated",
                          prompt_param, "context_length_exceeded");
  if (!requested) {
    if (prompt_tokens == context)
      throw invalid_request(
          "the prompt fills the whole context of " + std::to_string(context) + " tokens, leaving none for the answer",
          prompt_param, "context_length_exceeded");
    return context - prompt_tokens;
  }
  if (prompt_tokens + *requested > context)
    throw invalid_request("this model's context length is " + std::to_string(context) + " tokens, but " +
                              std::to_string(prompt_tokens) + " prompt tokens and " + std::to_string(*requested) +
                              " requested tokens make " + std::to_string(prompt_tokens + *requested),
                          "max_tokens", "context_length_exceeded");
  return *requested;
}

// ---- chat

ChatAnswer::ChatAnswer(const AnswerContext& context, const ChatRequest& r)
    : context_(context), id_(random_id("chatcmpl-")), created_(now()) {
  const Engine& engine = context.engine;
  gen_ = engine.default_request();
  try {
    gen_.prompt = engine.render_chat(r.messages, r.tools_json, true);
  } catch (const Error& e) {
    throw invalid_request(std::string("the conversation cannot be rendered in the chat format: ") + e.what(),
                          "messages");
  }
  gen_.max_tokens =
      completion_budget(context.context, static_cast<int64_t>(gen_.prompt.size()), r.common.max_tokens, "messages");
  gen_.sampling = r.common.sampling;
  gen_.stop_strings = r.common.stop;
  gen_.logprobs = r.logprobs ? r.top_logprobs : -1;
  gen_.draft_max = r.common.draft_max.value_or(gen_.draft_max);
  const bool forced = r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed;
  if (forced || r.response_format != ResponseFormat::kText) {
    constraint_ = std::make_unique<chat::GrammarConstraint>(grammar_for(r), context.vocab, gen_.stop_ids);
    gen_.constraint = constraint_.get();
    gen_.stop_strings.clear();  // a stop string could cut the JSON short
  }
  if (r.common.ignore_eos) gen_.stop_ids.clear();  // after the grammar, which ends at one
  parse_tools_ = r.tool_choice != ToolChoice::kNone && !r.tools.empty();
  for (const auto& t : r.tools) tool_names_.push_back(t.name);
  logprobs_ = r.logprobs;
  include_usage_ = r.common.include_usage;
  streamed_ = r.common.stream;
}

// Logprobs of the answer's tokens; a final stop id is not part of the answer.
Json ChatAnswer::logprob_entries(const GenerateResult& result) const {
  const Tokenizer& tokenizer = context_.engine.tokenizer();
  Json entries = Json::array();
  for (size_t i = 0; i < result.logprobs.size(); ++i) {
    const bool final_stop = i + 1 == result.tokens.size() && result.finish == FinishReason::kStop &&
                            is_stop_id(gen_, result.logprobs[i].id);
    if (!final_stop) entries.push_back(chat_logprob_entry(tokenizer, result.logprobs[i]));
  }
  return entries;
}

Json ChatAnswer::whole(Session& session, const ResultHook& on_result) {
  const GenerateResult result = session.generate(gen_);
  if (on_result && !on_result(result)) return nullptr;

  Json message = {{"role", "assistant"}, {"content", result.text}};
  std::string finish = finish_reason_name(result.finish);
  if (parse_tools_) {
    if (auto calls = chat::parse_tool_calls(result.text, tool_names_)) {
      message["content"] = nullptr;
      message["tool_calls"] = tool_calls_json(*calls, false);
      finish = "tool_calls";
    }
  }
  Json choice = {{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", finish}};
  if (logprobs_) choice["logprobs"] = {{"content", logprob_entries(result)}};
  return {
      {"id", id_},
      {"object", "chat.completion"},
      {"created", created_},
      {"model", context_.model_name},
      {"choices", Json::array({choice})},
      {"usage", usage_json(result.prompt_tokens, static_cast<int64_t>(result.tokens.size()), result.cached_tokens)}};
}

Json ChatAnswer::chunk(Json delta, const Json& finish, const Json& logprobs) const {
  Json c = {
      {"id", id_},
      {"object", "chat.completion.chunk"},
      {"created", created_},
      {"model", context_.model_name},
      {"choices",
       Json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", logprobs}, {"finish_reason", finish}}})}};
  if (include_usage_) c["usage"] = nullptr;
  return c;
}

bool ChatAnswer::flush_content(const ChunkSink& send, const std::string& text) {
  if (text.empty() && pending_logprobs_.empty()) return true;
  Json lp = logprobs_ ? Json{{"content", pending_logprobs_}} : Json(nullptr);
  pending_logprobs_ = Json::array();
  return send(chunk({{"content", text}}, nullptr, lp));
}

GenerateResult ChatAnswer::stream(Session& session, const ChunkSink& send) {
  const Tokenizer& tokenizer = context_.engine.tokenizer();
  holding_ = parse_tools_;
  held_.clear();
  send(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  return session.generate(gen_, [&](const TokenEvent& e) {
    if (logprobs_ && e.logprob && !(e.last && is_stop_id(gen_, e.id)))
      pending_logprobs_.push_back(chat_logprob_entry(tokenizer, *e.logprob));
    if (holding_) {
      held_ += e.text;
      if (chat::may_be_tool_call(held_, tool_names_)) return !(gen_.cancel && gen_.cancel->load());
      holding_ = false;
      return flush_content(send, std::exchange(held_, {}));
    }
    return flush_content(send, std::string(e.text));
  });
}

Json ChatAnswer::last_chunk(const GenerateResult& result, const ChunkSink& send) {
  std::string finish = finish_reason_name(result.finish);
  if (holding_) {
    if (auto calls = chat::parse_tool_calls(held_, tool_names_)) {
      send(chunk({{"tool_calls", tool_calls_json(*calls, true)}}, nullptr));
      finish = "tool_calls";
    } else {
      flush_content(send, held_);
    }
  } else {
    flush_content(send, "");
  }
  return chunk(Json::object(), finish);
}

Json ChatAnswer::usage_chunk(const GenerateResult& result) const {
  if (!include_usage_) return nullptr;
  Json c = chunk(Json::object(), nullptr);
  c["choices"] = Json::array();
  c["usage"] = usage_json(result.prompt_tokens, static_cast<int64_t>(result.tokens.size()), result.cached_tokens);
  return c;
}

// ---- legacy completions

CompletionAnswer::CompletionAnswer(const AnswerContext& context, CompletionRequest request)
    : context_(context), request_(std::move(request)), id_(random_id("cmpl-")), created_(now()) {
  const Tokenizer& tokenizer = context.engine.tokenizer();
  for (const auto& p : request_.prompts) {
    prompts_.push_back(tokenize_prompt(tokenizer, p));
    if (prompts_.back().empty()) throw invalid_request("the prompt is empty", "prompt");
    completion_budget(context.context, static_cast<int64_t>(prompts_.back().size()), request_.common.max_tokens,
                      "prompt");
  }
  base_ = context.engine.default_request();
  base_.max_tokens = *request_.common.max_tokens;
  base_.sampling = request_.common.sampling;
  base_.stop_strings = request_.common.stop;
  base_.logprobs = request_.logprobs;
  if (request_.common.ignore_eos) base_.stop_ids.clear();
  base_.draft_max = request_.common.draft_max.value_or(base_.draft_max);
}

Json CompletionAnswer::whole(Session& session, const ResultHook& on_result) {
  const Tokenizer& tokenizer = context_.engine.tokenizer();
  Json choices = Json::array();
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    GenerateRequest gen = base_;
    gen.prompt = prompts_[i];
    if (request_.echo && request_.logprobs >= 0) gen.prompt_logprobs = request_.logprobs;
    const GenerateResult result = session.generate(gen);
    if (on_result && !on_result(result)) return nullptr;
    prompt_tokens += result.prompt_tokens;
    completion_tokens += static_cast<int64_t>(result.tokens.size());
    cached_tokens += result.cached_tokens;
    Json logprobs = nullptr;
    if (request_.logprobs >= 0) {
      LegacyLogprobs legacy(tokenizer);
      if (request_.echo) add_prompt_logprobs(legacy, prompts_[i], result);
      for (const auto& lp : result.logprobs) legacy.add(lp.id, &lp);
      logprobs = legacy.json();
    }
    std::string text = request_.echo ? tokenizer.decode(prompts_[i]) : std::string();
    choices.push_back(completion_choice(i, text + result.text, logprobs, finish_reason_name(result.finish)));
  }
  return {{"id", id_},           {"object", "text_completion"},
          {"created", created_}, {"model", context_.model_name},
          {"choices", choices},  {"usage", usage_json(prompt_tokens, completion_tokens, cached_tokens)}};
}

Json CompletionAnswer::chunk(Json choices) const {
  Json c = {{"id", id_},
            {"object", "text_completion"},
            {"created", created_},
            {"model", context_.model_name},
            {"choices", std::move(choices)}};
  if (request_.common.include_usage) c["usage"] = nullptr;
  return c;
}

GenerateResult CompletionAnswer::stream(Session& session, const ChunkSink& send) {
  const Tokenizer& tokenizer = context_.engine.tokenizer();
  const std::vector<int32_t>& prompt = prompts_[0];
  GenerateRequest gen = base_;
  gen.prompt = prompt;
  const bool with_logprobs = request_.logprobs >= 0;
  int64_t offset = 0;
  if (request_.echo) {
    // Score the prompt first so its chunk can carry its logprobs; the
    // generation below then reuses the cache.
    GenerateRequest score = gen;
    score.max_tokens = 0;
    score.prompt_logprobs = request_.logprobs;
    const GenerateResult scored = session.generate(score);
    Json lp = nullptr;
    if (with_logprobs) {
      LegacyLogprobs legacy(tokenizer);
      add_prompt_logprobs(legacy, prompt, scored);
      offset = legacy.end_offset();
      lp = legacy.json();
    }
    send(chunk(Json::array({completion_choice(0, tokenizer.decode(prompt), lp, nullptr)})));
  }
  return session.generate(gen, [&](const TokenEvent& e) {
    Json lp = nullptr;
    if (with_logprobs && e.logprob) {
      LegacyLogprobs legacy(tokenizer, offset);
      legacy.add(e.id, e.logprob);
      offset = legacy.end_offset();
      lp = legacy.json();
    }
    return send(chunk(Json::array({completion_choice(0, std::string(e.text), lp, nullptr)})));
  });
}

Json CompletionAnswer::last_chunk(const GenerateResult& result, const ChunkSink&) const {
  return chunk(Json::array({completion_choice(0, "", nullptr, finish_reason_name(result.finish))}));
}

Json CompletionAnswer::usage_chunk(const GenerateResult& result) const {
  if (!request_.common.include_usage) return nullptr;
  Json usage = chunk(Json::array());
  usage["usage"] = usage_json(result.prompt_tokens, static_cast<int64_t>(result.tokens.size()), result.cached_tokens);
  return usage;
}

}  // namespace mobilellm::server
