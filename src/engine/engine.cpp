#include <algorithm>

#include "engine/engine_impl.h"
#include "engine/model_assets.h"
#include "engine/session_impl.h"
#include "runtime/error.h"

namespace mobilellm {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

namespace {

// The draft model of `options`, checked to share `tokenizer`: the same ids
// must be the same text, or its guesses would be other tokens.
std::shared_ptr<Engine> load_draft(const EngineOptions& options, const std::optional<Tokenizer>& tokenizer) {
  EngineOptions o;
  o.model = options.draft_model;
  o.threads = options.threads;
  o.prefill_chunk = options.prefill_chunk;
  const std::string what = "the draft model " + options.draft_model.string();
  std::shared_ptr<Engine> draft;
  try {
    draft = Engine::load(o);
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  if (!tokenizer) throw Error(what + " needs the model's tokenizer to compare with its own");
  const Tokenizer& ours = *tokenizer;
  const Tokenizer& theirs = draft->tokenizer();
  if (theirs.vocab_size() != ours.vocab_size())
    throw Error(what + " does not share the model's tokenizer: " + std::to_string(theirs.vocab_size()) + " ids, not " +
                std::to_string(ours.vocab_size()));
  for (int32_t id = 0; id < ours.vocab_size(); ++id)
    if (theirs.token_bytes(id) != ours.token_bytes(id) || theirs.is_special(id) != ours.is_special(id))
      throw Error(what + " does not share the model's tokenizer: token " + std::to_string(id) + " differs");
  return draft;
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::shared_ptr<Engine> Engine::load(const EngineOptions& options) {
  auto model = model::Model::load(options.model, {.verify = options.verify});
  std::optional<Tokenizer> tokenizer;
  if (options.require_tokenizer || !options.tokenizer.empty() || model_has_tokenizer(*model))
    tokenizer = load_model_tokenizer(*model, options.tokenizer);
  const auto& c = model->config();
  if (tokenizer && tokenizer->vocab_size() > c.vocab_size)
    throw Error("the tokenizer has " + std::to_string(tokenizer->vocab_size()) + " ids but the model only " +
                std::to_string(c.vocab_size));
  const int threads = options.threads > 0 ? options.threads : default_thread_count();
  if (options.prefill_chunk < 1) throw Error("prefill_chunk must be ≥ 1, not " + std::to_string(options.prefill_chunk));
  if (options.draft_max < 0 || options.draft_max > kMaxDraftTokens)
    throw Error("draft_max must be in 0.." + std::to_string(kMaxDraftTokens) + ", not " +
                std::to_string(options.draft_max));
  auto impl = std::make_unique<Impl>(std::move(model), std::move(tokenizer), threads, options.prefill_chunk);
  if (!options.draft_model.empty()) impl->draft = load_draft(options, impl->tokenizer);

  const std::filesystem::path dir = impl->model->path();
  ModelInfo& info = impl->info;
  const std::filesystem::path named = dir.has_filename() ? dir : dir.parent_path();
  info.name = (impl->model->file() ? named.stem() : named.filename()).string();
  info.vocab_size = c.vocab_size;
  info.max_context = c.max_position_embeddings;
  info.parameters = c.parameter_count();
  info.random_weights = model_has_random_weights(*impl->model);

  const auto& g = impl->model->generation_defaults();
  GenerateRequest& d = impl->defaults;
  d.sampling.temperature = g.do_sample ? g.temperature : 0.0;
  d.sampling.top_p = g.top_p;
  d.sampling.top_k = g.top_k;
  d.sampling.min_p = g.min_p;
  d.sampling.repetition_penalty = g.repetition_penalty;
  d.draft_max = options.draft_max;
  // Every id that ends an answer: generation_config's, the model's, the tokenizer's.
  auto add_stop = [&](int64_t id) {
    if (id >= 0 && id < c.vocab_size && std::find(d.stop_ids.begin(), d.stop_ids.end(), id) == d.stop_ids.end())
      d.stop_ids.push_back(static_cast<int32_t>(id));
  };
  for (int64_t id : g.eos_token_ids) add_stop(id);
  for (int64_t id : c.eos_token_ids) add_stop(id);
  if (impl->tokenizer)
    for (int32_t id : impl->tokenizer->eos_ids()) add_stop(id);
  return std::shared_ptr<Engine>(new Engine(std::move(impl)));
}

const ModelInfo& Engine::info() const { return impl_->info; }
bool Engine::has_tokenizer() const { return impl_->tokenizer.has_value(); }
const Tokenizer& Engine::tokenizer() const {
  if (!impl_->tokenizer) throw Error(impl_->model->path().string() + " was loaded without a tokenizer");
  return *impl_->tokenizer;
}
GenerateRequest Engine::default_request() const { return impl_->defaults; }

std::vector<int32_t> Engine::render_chat(const std::vector<ChatMessage>& messages, const std::string& tools_json,
                                         bool add_generation_prompt) const {
  const Json tools = tools_json.empty() ? Json() : parse_json_text(tools_json, "tools");
  // The format writes special tokens as text (<|eot|>, …); encoding parses them.
  const std::string text = impl_->chat.render(messages, tools, add_generation_prompt);
  return tokenizer().encode(text, {.parse_special = true});
}
int Engine::threads() const { return impl_->pool.size(); }
int64_t Engine::prefill_chunk() const { return impl_->batcher.prefill_chunk(); }
StepStats Engine::step_stats() const { return impl_->batcher.stats(); }

std::unique_ptr<Session> Engine::new_session(int64_t context) {
  const int64_t max = impl_->info.max_context;
  if (context < 0 || context > max)
    throw Error("context " + std::to_string(context) + " is outside 1.." + std::to_string(max));
  return std::unique_ptr<Session>(
      new Session(std::make_unique<Session::Impl>(shared_from_this(), *impl_, context == 0 ? max : context)));
}

}  // namespace mobilellm
