// POST /v1/completions: raw prompts (text or token ids), echo with prompt
// logprobs in the legacy schema (what lm-eval's loglikelihood reads).
#include <ctime>

#include "runtime/timer.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/server_state.h"

namespace mobilellm::server {
namespace {

constexpr const char* kEndpoint = "/v1/completions";

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

Json choice_json(size_t index, std::string text, const Json& logprobs, const Json& finish) {
  return {{"index", index}, {"text", std::move(text)}, {"logprobs", logprobs}, {"finish_reason", finish}};
}

struct CompletionStream {
  CompletionStream(ServerState& s, CompletionRequest r, std::vector<int32_t> p, GenerateRequest g, Admitted a)
      : state(s), request(std::move(r)), prompt(std::move(p)), gen(std::move(g)), admitted(std::move(a)) {}

  ServerState& state;
  CompletionRequest request;
  std::vector<int32_t> prompt;
  GenerateRequest gen;
  Admitted admitted;
  std::string id = random_id("cmpl-");
  int64_t created = static_cast<int64_t>(std::time(nullptr));
  Timer timer;

  Json chunk(Json choices) const {
    Json c = {{"id", id},
              {"object", "text_completion"},
              {"created", created},
              {"model", state.model_name},
              {"choices", std::move(choices)}};
    if (request.common.include_usage) c["usage"] = nullptr;
    return c;
  }

  void run(httplib::DataSink& sink) {
    const Tokenizer& tokenizer = state.engine->tokenizer();
    Session& session = admitted.lease->session();
    const bool with_logprobs = request.logprobs >= 0;
    int64_t offset = 0;
    auto generate = [&](chat::EventStream& events) {
      if (request.echo) {
        // Score the prompt first so its chunk can carry its logprobs; the
        // generation below then reuses the cache.
        GenerateRequest score = gen;
        score.max_tokens = 0;
        score.prompt_logprobs = request.logprobs;
        const GenerateResult scored = session.generate(score);
        Json lp = nullptr;
        if (with_logprobs) {
          LegacyLogprobs legacy(tokenizer);
          add_prompt_logprobs(legacy, prompt, scored);
          offset = legacy.end_offset();
          lp = legacy.json();
        }
        events.send(chunk(Json::array({choice_json(0, tokenizer.decode(prompt), lp, nullptr)})));
      }
      return session.generate(gen, [&](const TokenEvent& e) {
        Json lp = nullptr;
        if (with_logprobs && e.logprob) {
          LegacyLogprobs legacy(tokenizer, offset);
          legacy.add(e.id, e.logprob);
          offset = legacy.end_offset();
          lp = legacy.json();
        }
        return events.send(chunk(Json::array({choice_json(0, std::string(e.text), lp, nullptr)})));
      });
    };
    auto last_chunk = [&](const GenerateResult& result, chat::EventStream&) {
      return chunk(Json::array({choice_json(0, "", nullptr, finish_reason_name(result.finish))}));
    };
    auto usage_chunk = [&](const GenerateResult& result) {
      if (!request.common.include_usage) return Json(nullptr);
      Json usage = chunk(Json::array());
      usage["usage"] =
          usage_json(result.prompt_tokens, static_cast<int64_t>(result.tokens.size()), result.cached_tokens);
      return usage;
    };
    stream_answer(state, admitted, sink, kEndpoint, timer, generate, last_chunk, usage_chunk);
  }
};

}  // namespace

bool handle_completions(ServerState& state, const httplib::Request& http, httplib::Response& res) {
  const Engine& engine = *state.engine;
  const Tokenizer& tokenizer = engine.tokenizer();
  CompletionRequest request = parse_completion_request(parse_request_json(http.body), engine.default_request().sampling,
                                                       engine.info().vocab_size);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& p : request.prompts) {
    prompts.push_back(tokenize_prompt(tokenizer, p));
    if (prompts.back().empty()) throw invalid_request("the prompt is empty", "prompt");
    completion_budget(state, static_cast<int64_t>(prompts.back().size()), request.common.max_tokens, "prompt");
  }
  GenerateRequest base = engine.default_request();
  base.max_tokens = *request.common.max_tokens;
  base.sampling = request.common.sampling;
  base.stop_strings = request.common.stop;
  base.logprobs = request.logprobs;

  std::optional<Admitted> admitted = admit(state, http, prompts[0]);
  if (!admitted) {
    res.status = 499;
    return false;
  }
  base.cancel = &admitted->client->gone();
  if (request.common.stream) {
    GenerateRequest gen = base;
    gen.prompt = prompts[0];
    auto stream = std::make_shared<CompletionStream>(state, std::move(request), std::move(prompts[0]), std::move(gen),
                                                     std::move(*admitted));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [stream](size_t, httplib::DataSink& sink) {
      stream->run(sink);
      return true;
    });
    return true;
  }

  Json choices = Json::array();
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    GenerateRequest gen = base;
    gen.prompt = prompts[i];
    if (request.echo && request.logprobs >= 0) gen.prompt_logprobs = request.logprobs;
    const GenerateResult result = admitted->lease->session().generate(gen);
    record_generation(state, result);
    if (result.finish == FinishReason::kCancelled && !state.watch.shutting_down()) {
      res.status = 499;
      return false;
    }
    prompt_tokens += result.prompt_tokens;
    completion_tokens += static_cast<int64_t>(result.tokens.size());
    cached_tokens += result.cached_tokens;
    Json logprobs = nullptr;
    if (request.logprobs >= 0) {
      LegacyLogprobs legacy(tokenizer);
      if (request.echo) add_prompt_logprobs(legacy, prompts[i], result);
      for (const auto& lp : result.logprobs) legacy.add(lp.id, &lp);
      logprobs = legacy.json();
    }
    std::string text = request.echo ? tokenizer.decode(prompts[i]) : std::string();
    choices.push_back(choice_json(i, text + result.text, logprobs, finish_reason_name(result.finish)));
  }
  const Json body = {{"id", random_id("cmpl-")},
                     {"object", "text_completion"},
                     {"created", static_cast<int64_t>(std::time(nullptr))},
                     {"model", state.model_name},
                     {"choices", choices},
                     {"usage", usage_json(prompt_tokens, completion_tokens, cached_tokens)}};
  res.set_content(dump_json(body), "application/json");
  return false;
}

}  // namespace mobilellm::server
