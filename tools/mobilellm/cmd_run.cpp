// `mobilellm run`: generate a continuation of a prompt and stream it.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "model/generator.h"
#include "runtime/error.h"
#include "tokenizer/tokenizer.h"

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
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("run", "Generate a continuation of a prompt");
  cmd->add_option("-m,--model", opts->model, "Checkpoint directory, GGUF file, model file (mobilellm convert), or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")->required();
  auto* text = cmd->add_option("-p,--prompt", opts->prompt, "Prompt text (encoded with the checkpoint's tokenizer)");
  auto* ids = cmd->add_option("--prompt-ids", opts->prompt_ids, "Prompt as token ids, separated by spaces or commas");
  text->excludes(ids);
  cmd->add_option("--tokenizer", opts->tokenizer, "Tokenizer file or directory (default: the checkpoint directory)");
  cmd->add_flag("--no-bos", opts->no_bos, "Do not prepend the begin-of-text token to a text prompt (default: prepend it when the model's tokenizer config asks for it)");
  cmd->add_flag("--special", opts->special, "Parse special-token text such as <|eot|> in the prompt");
  cmd->add_option("-n,--n-predict", opts->n_predict, "Maximum number of new tokens")->check(CLI::NonNegativeNumber);
  cmd->add_option("--temp", opts->temperature, "Temperature; 0 is greedy (default: generation_config.json, else 0.6)");
  cmd->add_option("--top-k", opts->top_k, "Keep the k most likely tokens; 0 is off");
  cmd->add_option("--top-p", opts->top_p, "Nucleus sampling mass in (0, 1]; 1 is off");
  cmd->add_option("--min-p", opts->min_p, "Drop tokens less likely than min-p × the most likely; 0 is off");
  cmd->add_option("--repeat-penalty", opts->repetition_penalty, "Repetition penalty; 1 is off");
  cmd->add_option("--seed", opts->seed, "Sampling seed: the same seed gives the same output");
  cmd->add_option("-c,--ctx", opts->context, "Context length (0: the model's maximum)")->check(CLI::NonNegativeNumber);
  add_threads_option(cmd, opts->threads);
  cmd->add_flag("--verify", opts->verify, "Check every tensor checksum of a model file before running");
  cmd->add_flag("--print-ids", opts->print_ids, "Print the generated token ids (one line, space-separated) on stdout");
  cmd->callback([opts] {
    opts->model = resolve_model_arg(opts->model);
    if (opts->prompt.empty() && opts->prompt_ids.empty()) throw Error("give a prompt with -p TEXT or --prompt-ids \"i0 i1 …\"");
    auto model = model::Model::load(opts->model, {.verify = opts->verify});
    warn_if_random(*model);
    // Text in and out needs the tokenizer; id prompts work without one.
    std::optional<Tokenizer> tokenizer;
    if (!opts->prompt.empty() || !opts->print_ids)
      tokenizer = load_tokenizer_for(*model, opts->tokenizer, /*required=*/!opts->prompt.empty());
    std::vector<int32_t> prompt =
        opts->prompt.empty() ? parse_ids(opts->prompt_ids)
                             : tokenizer->encode(opts->prompt, {.add_bos = !opts->no_bos && tokenizer->default_add_bos(), .parse_special = opts->special});
    if (prompt.empty()) throw Error("the prompt is empty");
    const auto& c = model->config();
    const auto& defaults = model->generation_defaults();

    model::GenerateOptions gen;
    gen.max_new_tokens = opts->n_predict;
    gen.sampling.temperature = opts->temperature.value_or(defaults.do_sample ? defaults.temperature : 0.0);
    gen.sampling.top_k = opts->top_k.value_or(defaults.top_k);
    gen.sampling.top_p = opts->top_p.value_or(defaults.top_p);
    gen.sampling.min_p = opts->min_p.value_or(defaults.min_p);
    gen.sampling.repetition_penalty = opts->repetition_penalty.value_or(defaults.repetition_penalty);
    gen.sampling.seed = opts->seed;
    model::validate(gen.sampling);
    for (int64_t id : defaults.eos_token_ids.empty() ? c.eos_token_ids : defaults.eos_token_ids)
      gen.stop_ids.push_back(static_cast<int32_t>(id));

    const int64_t context = opts->context == 0 ? c.max_position_embeddings : opts->context;
    if (static_cast<int64_t>(prompt.size()) > context)
      throw Error("the prompt has " + std::to_string(prompt.size()) + " tokens, more than the context length " +
                  std::to_string(context));
    ThreadPool pool(resolve_threads(opts->threads));
    model::KvCache cache(c, context);
    model::Forward forward(*model, pool);

    bool first = true;
    std::optional<StreamDecoder> text_out;
    if (tokenizer && !opts->print_ids) {
      text_out.emplace(*tokenizer);
      std::fputs(opts->prompt.c_str(), stdout);
    }
    auto stats = model::generate(forward, cache, prompt, gen, [&](int32_t token) {
      if (text_out) {
        if (!tokenizer->is_special(token)) std::fputs(text_out->push(token).c_str(), stdout);
      } else {
        std::printf(first ? "%d" : " %d", token);
      }
      first = false;
      std::fflush(stdout);
      return true;
    });
    if (text_out) std::fputs(text_out->flush().c_str(), stdout);
    std::printf("\n");
    std::fflush(stdout);  // the text ends before the statistics on stderr, also through a pipe
    if (stats.reason == model::StopReason::kContextFull)
      std::fprintf(stderr, "stopped: the context limit (%lld tokens) was reached\n", static_cast<long long>(context));
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s | generated: %lld tokens, %.1f tok/s | stop: %s\n",
                 static_cast<long long>(stats.prompt_tokens), stats.prompt_tokens / std::max(stats.prefill_seconds, 1e-9),
                 static_cast<long long>(stats.generated_tokens),
                 stats.generated_tokens > 1 ? (stats.generated_tokens - 1) / std::max(stats.decode_seconds, 1e-9) : 0.0,
                 model::stop_reason_name(stats.reason));
  });
}

}  // namespace mobilellm::cli
