#include "cli_common.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "hub/client.h"
#include "mobilellm/engine.h"
#include "mobilellm/hub.h"
#include "pull_progress.h"
#include "runtime/error.h"
#include "runtime/thread_pool.h"

namespace mobilellm::cli {

std::string resolve_model_arg(const std::string& arg) {
  hub::ModelRef ref;
  if (std::filesystem::exists(arg) || !hub::parse_model_ref(arg, ref)) return arg;
  if (auto cached = find_cached_model(arg)) return cached->string();
  const std::filesystem::path cache_dir = hub_cache_dir();
  if (hub::offline_mode())
    throw Error(arg + " is not in the Hugging Face cache (" + cache_dir.string() +
                ") and HF_HUB_OFFLINE is set: run `mobilellm pull " + arg + "` where the Hub is reachable");
  std::fprintf(stderr, "%s is not in the cache yet: pulling it (as `mobilellm pull %s`)\n", arg.c_str(), arg.c_str());
  hub::PullOptions o;
  o.ref = ref;
  o.cache_dir = cache_dir;
  o.token = hub::default_token();
  o.endpoint = hub::default_endpoint();
  try {
    return pull_with_progress(o, /*quiet=*/false).model.string();
  } catch (const hub::HubError& e) {
    if (e.code != "RepoNotFound") throw;
    throw Error("-m " + arg + ": no such file or directory, and " + e.what());  // perhaps a mistyped path
  }
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 9 ||
        (j < text.size() && text[j] != ' ' && text[j] != ',' && text[j] != '\n' && text[j] != '\t' &&
         text[j] != '\r')) {
      size_t end = text.find_first_of(" ,\n\t\r", i);
      throw Error("token id \"" + text.substr(i, end == std::string::npos ? std::string::npos : end - i) +
                  "\" (entry " + std::to_string(ids.size()) + ") is not a non-negative integer");
    }
    ids.push_back(static_cast<int32_t>(std::stol(text.substr(i, j - i))));
    i = j;
  }
  return ids;
}

void add_threads_option(CLI::App* cmd, int& threads) {
  cmd->add_option("-t,--threads", threads, "Threads (0: all cores; at most " + std::to_string(kMaxThreads) + ")")
      ->check(CLI::Range(0, kMaxThreads));
}

int resolve_threads(int requested) {
  if (requested < 0 || requested > kMaxThreads)
    throw Error("--threads must be between 0 and " + std::to_string(kMaxThreads));
  return requested == 0 ? default_thread_count() : requested;
}

void add_draft_options(CLI::App* cmd, DraftOptions& options) {
  cmd->add_option("--draft", options.draft,
                  "Speculative decoding: 'prompt' proposes tokens by prompt lookup (n-grams of the prompt and the "
                  "answer); PATH (as -m takes it) a smaller model sharing the tokenizer proposes its greedy tokens; "
                  "the model verifies several per forward pass: the same output, faster when the guesses are right "
                  "(default: off)");
  cmd->add_option("--draft-max", options.draft_max, "Most tokens proposed per pass with --draft")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, mobilellm::kMaxDraftTokens));
}

void apply_draft_options(const DraftOptions& options, EngineOptions& engine) {
  if (options.draft.empty()) return;
  engine.draft_max = options.draft_max;
  if (options.draft != "prompt") engine.draft_model = resolve_model_arg(options.draft);
}

std::string draft_summary(const GenerateResult& result) {
  if (result.draft_tokens == 0) return {};
  const int64_t decoded = static_cast<int64_t>(result.tokens.size()) - 1;
  char text[96];
  std::snprintf(text, sizeof text, ", draft: %.0f%% accepted, %.2f tokens/pass",
                100.0 * static_cast<double>(result.accepted_tokens) / static_cast<double>(result.draft_tokens),
                static_cast<double>(decoded) / static_cast<double>(std::max<int64_t>(result.decode_passes, 1)));
  return text;
}

void note_random_weights(const std::string& model) {
  std::fprintf(stderr, "note: %s holds RANDOM weights (made by `mobilellm make-random`): output is meaningless text\n",
               model.c_str());
}

}  // namespace mobilellm::cli
