// `mobilellm run`: generate a continuation of a prompt and stream it.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "cli_common.h"
#include "commands.h"
#include "mobilellm/engine.h"
#include "mobilellm/error.h"

namespace mobilellm::cli {

void add_run_command(CLI::App& app) {
  struct Options {
    std::string model, prompt, prompt_ids, tokenizer;
    int64_t n_predict = 128;
    int64_t context = 0;
    int threads = 0;
    bool print_ids = false, no_bos = false, special = false, verify = false;
    std::optional<double> temperature, top_p, min_p, repetition_penalty;
    std::optional<int64_t> top_k;
    uint64_t seed = 0;
    DraftOptions draft;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("run", "Generate a continuation of a prompt");
  cmd->add_option(
         "-m,--model", opts->model,
         "Checkpoint directory, GGUF file, model file (mobilellm convert), or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")
      ->required();
  auto* text = cmd->add_option("-p,--prompt", opts->prompt, "Prompt text (encoded with the checkpoint's tokenizer)");
  auto* ids = cmd->add_option("--prompt-ids", opts->prompt_ids, "Prompt as token ids, separated by spaces or commas");
  text->excludes(ids);
  cmd->add_option("--tokenizer", opts->tokenizer, "Tokenizer file or directory (default: the checkpoint directory)");
  cmd->add_flag(
      "--no-bos", opts->no_bos,
      "Do not prepend the begin-of-text token to a text prompt (default: prepend it when the model's tokenizer config asks for it)");
  cmd->add_flag("--special", opts->special, "Parse special-token text such as <|eot|> in the prompt");
  cmd->add_option("-n,--n-predict", opts->n_predict, "Maximum number of new tokens")->check(CLI::NonNegativeNumber);
  cmd->add_option("--temp", opts->temperature, "Temperature; 0 is greedy (default: generation_config.json, else 0.6)");
  cmd->add_option("--top-k", opts->top_k, "Keep the k most likely tokens; 0 is off");
  cmd->add_option("--top-p", opts->top_p, "Nucleus sampling mass in (0, 1]; 1 is off");
  cmd->add_option("--min-p", opts->min_p, "Drop tokens less likely than min-p × the most likely; 0 is off");
  cmd->add_option("--repeat-penalty", opts->repetition_penalty, "Repetition penalty; 1 is off");
  cmd->add_option("--seed", opts->seed, "Sampling seed: the same seed gives the same output");
  cmd->add_option("-c,--ctx", opts->context, "Context length (0: the model's maximum)")->check(CLI::NonNegativeNumber);
  add_draft_options(cmd, opts->draft);
  add_threads_option(cmd, opts->threads);
  cmd->add_flag("--verify", opts->verify, "Check every tensor checksum of a model file before running");
  cmd->add_flag("--print-ids", opts->print_ids, "Print the generated token ids (one line, space-separated) on stdout");
  cmd->callback([opts] {
    opts->model = resolve_model_arg(opts->model);
    if (opts->prompt.empty() && opts->prompt_ids.empty())
      throw Error("give a prompt with -p TEXT or --prompt-ids \"i0 i1 …\"");
    // Text in needs the tokenizer; id prompts work without one (and then print ids).
    EngineOptions options{.model = opts->model,
                          .tokenizer = opts->tokenizer,
                          .threads = resolve_threads(opts->threads),
                          .verify = opts->verify,
                          .require_tokenizer = !opts->prompt.empty()};
    apply_draft_options(opts->draft, options);
    auto engine = Engine::load(options);
    if (engine->info().random_weights) note_random_weights(opts->model);
    GenerateRequest request = engine->default_request();
    if (!opts->prompt.empty()) {
      const Tokenizer& tokenizer = engine->tokenizer();
      request.prompt = tokenizer.encode(
          opts->prompt, {.add_bos = !opts->no_bos && tokenizer.default_add_bos(), .parse_special = opts->special});
    } else {
      request.prompt = parse_ids(opts->prompt_ids);
    }
    request.max_tokens = opts->n_predict;
    Sampling& sampling = request.sampling;
    sampling.temperature = opts->temperature.value_or(sampling.temperature);
    sampling.top_k = opts->top_k.value_or(sampling.top_k);
    sampling.top_p = opts->top_p.value_or(sampling.top_p);
    sampling.min_p = opts->min_p.value_or(sampling.min_p);
    sampling.repetition_penalty = opts->repetition_penalty.value_or(sampling.repetition_penalty);
    sampling.seed = opts->seed;
    auto session = engine->new_session(opts->context);

    const bool print_text = engine->has_tokenizer() && !opts->print_ids;
    if (print_text) std::fputs(opts->prompt.c_str(), stdout);
    bool first = true;
    const GenerateResult result = session->generate(request, [&](const TokenEvent& e) {
      if (print_text)
        std::fwrite(e.text.data(), 1, e.text.size(), stdout);
      else
        std::printf(first ? "%d" : " %d", e.id);
      first = false;
      std::fflush(stdout);
      return true;
    });
    std::printf("\n");
    std::fflush(stdout);  // the text ends before the statistics on stderr, also through a pipe
    const int64_t prompt_tokens = result.prompt_tokens, generated = static_cast<int64_t>(result.tokens.size());
    // The answer ended for lack of room, before the token budget.
    const bool context_full = result.finish == FinishReason::kLength && generated < request.max_tokens;
    if (context_full)
      std::fprintf(stderr, "stopped: the context limit (%lld tokens) was reached\n",
                   static_cast<long long>(session->context()));
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s | generated: %lld tokens, %.1f tok/s%s | stop: %s\n",
                 static_cast<long long>(prompt_tokens), prompt_tokens / std::max(result.prefill_seconds, 1e-9),
                 static_cast<long long>(generated),
                 generated > 1 ? (generated - 1) / std::max(result.decode_seconds, 1e-9) : 0.0,
                 draft_summary(result).c_str(), context_full ? "context_full" : finish_reason_name(result.finish));
  });
}

}  // namespace mobilellm::cli
