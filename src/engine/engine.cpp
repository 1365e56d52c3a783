#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include "engine/engine_impl.h"
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

// The tokenizer given, else the checkpoint's: a directory's files, or the
// files a converted model file carries, which Tokenizer::load reads from a
// scratch directory.
Tokenizer load_tokenizer(const model::Model& model, const std::filesystem::path& given) {
  if (!given.empty()) return Tokenizer::load(given);
  const format::ModelFile* file = model.file();
  if (!file) return Tokenizer::load(model.path());
  if (file->index().blobs.empty())
    throw Error(model.path().string() + " carries no tokenizer files: pass the tokenizer's path");
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mobilellm-tokenizer-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};
  for (const auto& blob : file->index().blobs) {
    const std::filesystem::path name(blob.name);
    if (name.has_parent_path() || name.filename() != name || blob.name == ".." || blob.name == ".")
      throw Error(model.path().string() + ": tokenizer file name \"" + blob.name + "\" is not a plain file name");
    std::ofstream out(dir / name, std::ios::binary);
    const std::string bytes = file->blob(blob);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error((dir / name).string() + ": cannot write");
  }
  return Tokenizer::load(dir);
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::shared_ptr<Engine> Engine::load(const EngineOptions& options) {
  auto model = model::Model::load(options.model);
  Tokenizer tokenizer = load_tokenizer(*model, options.tokenizer);
  const auto& c = model->config();
  if (tokenizer.vocab_size() > c.vocab_size)
    throw Error("the tokenizer has " + std::to_string(tokenizer.vocab_size()) + " ids but the model only " +
                std::to_string(c.vocab_size));
  const int threads = options.threads > 0 ? options.threads : default_thread_count();
  auto impl = std::make_unique<Impl>(std::move(model), std::move(tokenizer), threads);

  const std::filesystem::path dir = impl->model->path();
  ModelInfo& info = impl->info;
  const std::filesystem::path named = dir.has_filename() ? dir : dir.parent_path();
  info.name = (impl->model->file() ? named.stem() : named.filename()).string();
  info.vocab_size = c.vocab_size;
  info.max_context = c.max_position_embeddings;
  info.parameters = c.parameter_count();
  if (const format::ModelFile* file = impl->model->file()) {
    const auto& source = file->index().source;  // written by `mobilellm convert`
    info.random_weights = source.is_object() && source.value("random_weights", false);
  } else {
    info.random_weights = std::filesystem::exists(dir / "random_weights.txt");
  }

  const auto& g = impl->model->generation_defaults();
  GenerateRequest& d = impl->defaults;
  d.sampling.temperature = g.do_sample ? g.temperature : 0.0;
  d.sampling.top_p = g.top_p;
  d.sampling.top_k = g.top_k;
  d.sampling.min_p = g.min_p;
  d.sampling.repetition_penalty = g.repetition_penalty;
  // Every id that ends an answer: generation_config's, the model's, the tokenizer's.
  auto add_stop = [&](int64_t id) {
    if (id >= 0 && id < c.vocab_size && std::find(d.stop_ids.begin(), d.stop_ids.end(), id) == d.stop_ids.end())
      d.stop_ids.push_back(static_cast<int32_t>(id));
  };
  for (int64_t id : g.eos_token_ids) add_stop(id);
  for (int64_t id : c.eos_token_ids) add_stop(id);
  for (int32_t id : impl->tokenizer.eos_ids()) add_stop(id);
  return std::shared_ptr<Engine>(new Engine(std::move(impl)));
}

const ModelInfo& Engine::info() const { return impl_->info; }
const Tokenizer& Engine::tokenizer() const { return impl_->tokenizer; }
GenerateRequest Engine::default_request() const { return impl_->defaults; }

std::vector<int32_t> Engine::render_chat(const std::vector<ChatMessage>& messages, const Json& tools,
                                         bool add_generation_prompt) const {
  // The format writes special tokens as text (<|eot|>, …); encoding parses them.
  const std::string text = impl_->chat.render(messages, tools, add_generation_prompt);
  return impl_->tokenizer.encode(text, {.parse_special = true});
}
int Engine::threads() const { return impl_->pool.size(); }

std::unique_ptr<Session> Engine::new_session(int64_t context) {
  const int64_t max = impl_->info.max_context;
  if (context < 0 || context > max)
    throw Error("context " + std::to_string(context) + " is outside 1.." + std::to_string(max));
  return std::unique_ptr<Session>(
      new Session(std::make_unique<Session::Impl>(shared_from_this(), *impl_, context == 0 ? max : context)));
}

}  // namespace mobilellm
