// POST /v1/chat/completions: the conversation in the chat format, tools,
// constrained JSON output, and the answer whole or streamed over SSE.
#include <ctime>

#include "chat/json_schema_grammar.h"
#include "chat/tool_calls.h"
#include "runtime/error.h"
#include "runtime/timer.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/server_state.h"

namespace mobilellm::server {
namespace {

constexpr const char* kEndpoint = "/v1/chat/completions";

// Everything decided before the request waits for a slot.
struct ChatPlan {
  GenerateRequest gen;
  std::unique_ptr<chat::GrammarConstraint> constraint;
  bool parse_tools = false;
  std::vector<std::string> tool_names;
  bool logprobs = false;
  bool include_usage = false;
};

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

ChatPlan plan(ServerState& state, const ChatRequest& r) {
  const Engine& engine = *state.engine;
  ChatPlan p;
  p.gen = engine.default_request();
  try {
    p.gen.prompt = engine.render_chat(r.messages, r.tools_json, true);
  } catch (const Error& e) {
    throw invalid_request(std::string("the conversation cannot be rendered in the chat format: ") + e.what(),
                          "messages");
  }
  p.gen.max_tokens =
      completion_budget(state, static_cast<int64_t>(p.gen.prompt.size()), r.common.max_tokens, "messages");
  p.gen.sampling = r.common.sampling;
  p.gen.stop_strings = r.common.stop;
  p.gen.logprobs = r.logprobs ? r.top_logprobs : -1;
  const bool forced = r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed;
  if (forced || r.response_format != ResponseFormat::kText) {
    p.constraint = std::make_unique<chat::GrammarConstraint>(grammar_for(r), *state.vocab, p.gen.stop_ids);
    p.gen.constraint = p.constraint.get();
    p.gen.stop_strings.clear();  // a stop string could cut the JSON short
  }
  p.parse_tools = r.tool_choice != ToolChoice::kNone && !r.tools.empty();
  for (const auto& t : r.tools) p.tool_names.push_back(t.name);
  p.logprobs = r.logprobs;
  p.include_usage = r.common.include_usage;
  return p;
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

// Logprobs of the answer's tokens; a final stop id is not part of the answer.
Json logprob_entries(const Tokenizer& tokenizer, const GenerateResult& result, const GenerateRequest& gen, size_t from,
                     size_t to) {
  Json entries = Json::array();
  for (size_t i = from; i < to && i < result.logprobs.size(); ++i) {
    const int32_t id = result.logprobs[i].id;
    const bool final_stop = i + 1 == result.tokens.size() && result.finish == FinishReason::kStop &&
                            std::find(gen.stop_ids.begin(), gen.stop_ids.end(), id) != gen.stop_ids.end();
    if (!final_stop) entries.push_back(chat_logprob_entry(tokenizer, result.logprobs[i]));
  }
  return entries;
}

void respond_whole(ServerState& state, ChatPlan& p, Admitted& admitted, httplib::Response& res) {
  GenerateRequest& gen = p.gen;
  gen.cancel = &admitted.client->gone();
  const GenerateResult result = admitted.lease->session().generate(gen);
  record_generation(state, result);
  if (result.finish == FinishReason::kCancelled && !state.watch.shutting_down()) {
    res.status = 499;  // nobody is listening
    return;
  }

  Json message = {{"role", "assistant"}, {"content", result.text}};
  std::string finish = finish_reason_name(result.finish);
  if (p.parse_tools) {
    if (auto calls = chat::parse_tool_calls(result.text, p.tool_names)) {
      message["content"] = nullptr;
      message["tool_calls"] = tool_calls_json(*calls, false);
      finish = "tool_calls";
    }
  }
  Json choice = {{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", finish}};
  if (p.logprobs)
    choice["logprobs"] = {
        {"content", logprob_entries(state.engine->tokenizer(), result, gen, 0, result.logprobs.size())}};
  const Json body = {
      {"id", random_id("chatcmpl-")},
      {"object", "chat.completion"},
      {"created", static_cast<int64_t>(std::time(nullptr))},
      {"model", state.model_name},
      {"choices", Json::array({choice})},
      {"usage", usage_json(result.prompt_tokens, static_cast<int64_t>(result.tokens.size()), result.cached_tokens)}};
  res.set_content(dump_json(body), "application/json");
}

// One streamed answer: lives in the content provider until the last event.
struct ChatStream {
  ChatStream(ServerState& s, ChatPlan p, Admitted a) : state(s), plan(std::move(p)), admitted(std::move(a)) {}

  ServerState& state;
  ChatPlan plan;
  Admitted admitted;
  std::string id = random_id("chatcmpl-");
  int64_t created = static_cast<int64_t>(std::time(nullptr));
  Timer timer;

  Json chunk(Json delta, const Json& finish, const Json& logprobs = nullptr) const {
    Json c = {{"id", id},
              {"object", "chat.completion.chunk"},
              {"created", created},
              {"model", state.model_name},
              {"choices",
               Json::array(
                   {{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", logprobs}, {"finish_reason", finish}}})}};
    if (plan.include_usage) c["usage"] = nullptr;
    return c;
  }

  Json usage_chunk(const GenerateResult& result) const {
    if (!plan.include_usage) return nullptr;
    Json c = chunk(Json::object(), nullptr);
    c["choices"] = Json::array();
    c["usage"] = usage_json(result.prompt_tokens, static_cast<int64_t>(result.tokens.size()), result.cached_tokens);
    return c;
  }

  void run(httplib::DataSink& sink) {
    const Tokenizer& tokenizer = state.engine->tokenizer();
    GenerateRequest& gen = plan.gen;
    gen.cancel = &admitted.client->gone();
    // While the answer may still turn out to be tool calls, hold it back.
    bool holding = plan.parse_tools;
    std::string held;
    Json pending_logprobs = Json::array();
    auto flush_content = [&](chat::EventStream& events, const std::string& text) {
      if (text.empty() && pending_logprobs.empty()) return true;
      Json lp = plan.logprobs ? Json{{"content", pending_logprobs}} : Json(nullptr);
      pending_logprobs = Json::array();
      return events.send(chunk({{"content", text}}, nullptr, lp));
    };
    auto generate = [&](chat::EventStream& events) {
      events.send(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
      return admitted.lease->session().generate(gen, [&](const TokenEvent& e) {
        if (plan.logprobs && e.logprob &&
            !(e.last && std::find(gen.stop_ids.begin(), gen.stop_ids.end(), e.id) != gen.stop_ids.end()))
          pending_logprobs.push_back(chat_logprob_entry(tokenizer, *e.logprob));
        if (holding) {
          held += e.text;
          if (chat::may_be_tool_call(held, plan.tool_names)) return !admitted.client->gone().load();
          holding = false;
          return flush_content(events, std::exchange(held, {}));
        }
        return flush_content(events, std::string(e.text));
      });
    };
    auto last_chunk = [&](const GenerateResult& result, chat::EventStream& events) {
      std::string finish = finish_reason_name(result.finish);
      if (holding) {
        if (auto calls = chat::parse_tool_calls(held, plan.tool_names)) {
          events.send(chunk({{"tool_calls", tool_calls_json(*calls, true)}}, nullptr));
          finish = "tool_calls";
        } else {
          flush_content(events, held);
        }
      } else {
        flush_content(events, "");
      }
      return chunk(Json::object(), finish);
    };
    stream_answer(state, admitted, sink, kEndpoint, timer, generate, last_chunk,
                  [&](const GenerateResult& result) { return usage_chunk(result); });
  }
};

}  // namespace

bool handle_chat(ServerState& state, const httplib::Request& http, httplib::Response& res) {
  const ChatRequest request =
      parse_chat_request(parse_request_json(http.body), state.engine->default_request().sampling);
  ChatPlan p = plan(state, request);
  std::optional<Admitted> admitted = admit(state, http, p.gen.prompt);
  if (!admitted) {
    res.status = 499;  // the client closed the connection while waiting
    return false;
  }
  if (!request.common.stream) {
    respond_whole(state, p, *admitted, res);
    return false;
  }
  auto stream = std::make_shared<ChatStream>(state, std::move(p), std::move(*admitted));
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [stream](size_t, httplib::DataSink& sink) {
    stream->run(sink);
    return true;
  });
  return true;
}

}  // namespace mobilellm::server
