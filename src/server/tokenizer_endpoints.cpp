// vLLM-shaped tokenizer endpoints (GET /tokenizer_info, POST /tokenize,
// POST /detokenize): lm-eval's remote tokenizer uses them, so an evaluation
// needs no tokenizer download.
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/server_state.h"

namespace mobilellm::server {
namespace {

// The text of the token that ends an answer, for clients that stop on text.
std::string eos_text(const Engine& engine) {
  const Tokenizer& t = engine.tokenizer();
  if (!t.eos_token().empty()) return t.eos_token();
  const auto stops = engine.default_request().stop_ids;
  return stops.empty() ? std::string() : std::string(t.token_bytes(stops[0]));
}

}  // namespace

void handle_tokenizer_info(ServerState& state, const httplib::Request&, httplib::Response& res) {
  const Engine& engine = *state.engine;
  const Tokenizer& t = engine.tokenizer();
  Json info = {{"tokenizer_class", "PreTrainedTokenizerFast"},
               {"bos_token", t.bos_id() >= 0 ? Json(std::string(t.token_bytes(t.bos_id()))) : Json(nullptr)},
               {"eos_token", eos_text(engine)},
               {"pad_token", nullptr},
               {"add_bos_token", t.bos_id() >= 0},
               {"model_max_length", state.context},
               {"vocab_size", t.vocab_size()},
               {"chat_template", t.chat_template().empty() ? Json(nullptr) : Json(t.chat_template())}};
  res.set_content(dump_json(info), "application/json");
}

void handle_tokenize(ServerState& state, const httplib::Request& http, httplib::Response& res) {
  const Engine& engine = *state.engine;
  const Tokenizer& t = engine.tokenizer();
  const Json body = parse_request_json(http.body);
  if (!body.is_object()) throw invalid_request("the body must be a JSON object");
  auto flag = [&](const char* key, bool fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw invalid_request(std::string("'") + key + "' must be a boolean", key);
    return it->get<bool>();
  };
  std::vector<int32_t> ids;
  if (body.contains("messages")) {
    // A chat, rendered as /v1/chat/completions would render it.
    Json chat = {{"messages", body["messages"]}};
    if (body.contains("tools")) chat["tools"] = body["tools"];
    const ChatRequest request = parse_chat_request(chat, engine.default_request().sampling);
    ids = engine.render_chat(request.messages, request.tools_json, flag("add_generation_prompt", true));
  } else {
    auto prompt = body.find("prompt");
    if (prompt == body.end() || !prompt->is_string())
      throw invalid_request("'prompt' (a string) or 'messages' is required", "prompt");
    // As Hugging Face tokenizers do: special-token text is the special token.
    ids = t.encode(prompt->get<std::string>(),
                   {.add_bos = flag("add_special_tokens", true), .parse_special = true, .lossy_utf8 = true});
  }
  Json out = {{"count", ids.size()}, {"max_model_len", state.context}, {"tokens", ids}, {"token_strs", nullptr}};
  if (flag("return_token_strs", false)) {
    Json strs = Json::array();
    for (int32_t id : ids) strs.push_back(token_string(t, id));
    out["token_strs"] = strs;
  }
  res.set_content(dump_json(out), "application/json");
}

void handle_detokenize(ServerState& state, const httplib::Request& http, httplib::Response& res) {
  const Tokenizer& t = state.engine->tokenizer();
  const Json body = parse_request_json(http.body);
  if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
    throw invalid_request("'tokens' (an array of token ids) is required", "tokens");
  std::vector<int32_t> ids;
  for (const auto& v : body["tokens"]) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= t.vocab_size())
      throw invalid_request("'tokens' must hold token ids in 0.." + std::to_string(t.vocab_size() - 1), "tokens");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  res.set_content(dump_json(Json{{"prompt", t.decode(ids)}}), "application/json");
}

}  // namespace mobilellm::server
