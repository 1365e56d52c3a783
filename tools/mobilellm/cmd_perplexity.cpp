// `mobilellm perplexity`: llama.cpp's `llama-perplexity` on a text file
// (Engine::perplexity, which the Python package calls too), and the KL
// divergence of a model against a saved base (docs/PERPLEXITY.md).
// External checks read the final line: keep "Final estimate: PPL = %.4f +/- %.4f".
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <unistd.h>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "eval/perplexity.h"
#include "io/atomic_output.h"
#include "mobilellm/engine.h"
#include "runtime/error.h"
#include "runtime/read_file.h"
#include "runtime/timer.h"

namespace mobilellm::cli {
namespace {

// Texts such as wikitext-103 run to hundreds of megabytes; the cap keeps a
// mistaken path (a device, a model file) from filling memory.
constexpr uint64_t kMaxTextBytes = uint64_t{1} << 30;

void progress(int64_t done, int64_t total, double seconds) {
  if (!isatty(fileno(stderr))) return;
  const int width = 30;
  int filled = static_cast<int>(width * done / total);
  double eta = done > 0 ? seconds / static_cast<double>(done) * static_cast<double>(total - done) : 0;
  std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld chunks, %.0f s left ", filled, "##############################",
               width - filled, "", static_cast<long long>(done), static_cast<long long>(total), eta);
  if (done == total) std::fprintf(stderr, "\r%*s\r", width + 40, "");
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
  struct Options {
    std::string model, text, tokenizer, kl_base;
    int64_t ctx = 512, batch = 256, chunks = -1;
    int threads = 0;
    bool save_base = false, compare_base = false, force = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity", "Perplexity of a text file with llama.cpp's llama-perplexity semantics; KL divergence to a base");
  cmd->add_option("-m,--model", opts->model,
                  "Checkpoint directory, GGUF file, model file (mobilellm convert) or Hub name ORG/NAME[:SELECTOR]")
      ->required();
  cmd->add_option("-f,--file", opts->text, "Text file to score")->required();
  cmd->add_option("-c,--ctx", opts->ctx, "Tokens per chunk; the second half of each chunk is scored")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{4}, int64_t{1} << 20));
  cmd->add_option("-b,--batch", opts->batch, "Tokens per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--chunks", opts->chunks, "Chunks to score (-1: all the text holds)")->capture_default_str();
  cmd->add_option("--tokenizer", opts->tokenizer, "Tokenizer file or directory (default: the model's own)");
  add_threads_option(cmd, opts->threads);
  cmd->add_option("--kl-divergence-base", opts->kl_base,
                  "Base logits file: written by a run without --kl-divergence, read by one with it");
  cmd->add_flag("--kl-divergence", opts->compare_base,
                "Compare with the --kl-divergence-base file: KL divergence, top-1 agreement, PPL ratio");
  cmd->add_flag("--force", opts->force, "Overwrite an existing --kl-divergence-base file");
  cmd->callback([opts] {
    if (opts->compare_base && opts->kl_base.empty()) throw Error("--kl-divergence needs --kl-divergence-base FILE");
    std::optional<eval::KlBaseReader> base;
    if (opts->compare_base) {
      base.emplace(opts->kl_base);
      opts->ctx = base->header().n_ctx;
      opts->chunks = opts->chunks < 0 ? base->header().chunks : std::min(opts->chunks, base->header().chunks);
    }
    const std::string model_arg = resolve_model_arg(opts->model);
    // One forward step is one batch (llama.cpp: at most a chunk): the engine's prefill chunk.
    auto engine = Engine::load({.model = model_arg,
                                .tokenizer = opts->tokenizer,
                                .threads = resolve_threads(opts->threads),
                                .prefill_chunk = std::min(opts->batch, opts->ctx)});
    if (engine->info().random_weights) note_random_weights(model_arg);
    const int64_t vocab = engine->info().vocab_size;
    if (base && base->header().vocab != vocab)
      throw Error(opts->kl_base + ": base vocabulary " + std::to_string(base->header().vocab) +
                  " differs from the model's " + std::to_string(vocab));

    Timer tokenize_timer;
    const PerplexityChunks chunks =
        engine->perplexity_chunks(read_file_bounded(opts->text, kMaxTextBytes, "text"), opts->ctx, opts->chunks);
    std::fprintf(stderr, "perplexity: tokenized %s: %lld tokens in %.2f s\n", opts->text.c_str(),
                 static_cast<long long>(chunks.text_tokens()), tokenize_timer.seconds());
    const std::span<const int32_t> tokens = chunks.tokens();
    if (base && !std::equal(tokens.begin(), tokens.end(), base->header().tokens.begin()))
      throw Error(opts->text + ": its tokens differ from those scored in " + opts->kl_base +
                  " (another text or tokenizer)");

    std::optional<io::AtomicOutput> base_out;
    std::optional<eval::KlBaseWriter> writer;
    if (!opts->kl_base.empty() && !base) {
      io::check_output_path(opts->kl_base, opts->force, {opts->text});
      base_out.emplace(opts->kl_base);
      writer.emplace(base_out->file(), opts->kl_base,
                     eval::KlBaseHeader{chunks.context(), vocab, chunks.count(), {tokens.begin(), tokens.end()}});
    }
    std::optional<eval::KlStats> kl;
    if (base) kl.emplace(vocab);

    std::fprintf(stderr, "perplexity: %lld chunks of %lld tokens, batch %lld, scoring %lld tokens per chunk\n",
                 static_cast<long long>(chunks.count()), static_cast<long long>(chunks.context()),
                 static_cast<long long>(opts->batch), static_cast<long long>(chunks.scored_per_chunk()));
    int64_t base_row = 0;
    PerplexityOptions run;
    run.on_chunk = [](const PerplexityProgress& p) {
      progress(p.chunks_done, p.chunks, p.seconds);
      std::printf("[%lld]%.4f,", static_cast<long long>(p.chunks_done), p.ppl);
      std::fflush(stdout);
    };
    if (writer || kl)
      run.on_scored = [&](std::span<const float> row, int32_t next) {
        if (writer) writer->add_row(row.data());
        if (kl) kl->add(base->row(base_row++), row.data(), vocab, next);
      };
    const PerplexityResult result = engine->perplexity(chunks, run);
    std::printf("\n");
    if (base_out) base_out->commit();
    std::fprintf(stderr, "perplexity: %.2f s, %.1f tokens/s\n", result.seconds,
                 static_cast<double>(chunks.count() * chunks.context()) / result.seconds);
    std::printf("Final estimate: PPL = %.4f +/- %.4f\n", result.ppl, result.ppl_error);
    if (kl) {
      std::printf("\n");
      kl->report(stdout);
    }
  });
}

}  // namespace mobilellm::cli
