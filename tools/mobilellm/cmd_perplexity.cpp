// `mobilellm perplexity`: llama.cpp's `llama-perplexity` on a text file, and
// the KL divergence of a model against a saved base (docs/PERPLEXITY.md).
// External checks read the final line: keep "Final estimate: PPL = %.4f +/- %.4f".
#include <cstdio>
#include <filesystem>
#include <optional>
#include <unistd.h>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "engine/model_assets.h"
#include "eval/perplexity.h"
#include "io/atomic_output.h"
#include "model/forward.h"
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
    auto model = model::Model::load(resolve_model_arg(opts->model));
    if (model_has_random_weights(*model)) note_random_weights(model->path().string());
    Tokenizer tokenizer = load_model_tokenizer(*model, opts->tokenizer);
    const auto& c = model->config();
    const int64_t vocab = c.vocab_size;

    std::optional<eval::KlBaseReader> base;
    if (opts->compare_base) base.emplace(opts->kl_base);

    Timer tokenize_timer;
    std::vector<int32_t> tokens = tokenizer.encode(read_file_bounded(opts->text, kMaxTextBytes, "text"),
                                                   {.add_bos = tokenizer.default_add_bos(), .lossy_utf8 = true});
    std::fprintf(stderr, "perplexity: tokenized %s: %zu tokens in %.2f s\n", opts->text.c_str(), tokens.size(),
                 tokenize_timer.seconds());
    if (base) {
      if (base->header().vocab != vocab)
        throw Error(opts->kl_base + ": base vocabulary " + std::to_string(base->header().vocab) +
                    " differs from the model's " + std::to_string(vocab));
      opts->ctx = base->header().n_ctx;
    }
    eval::ChunkPlan plan = eval::plan_chunks(static_cast<int64_t>(tokens.size()), opts->ctx, opts->chunks);
    if (base) plan.chunks = std::min(plan.chunks, base->header().chunks);
    if (plan.n_ctx > c.max_position_embeddings)
      throw Error("--ctx " + std::to_string(plan.n_ctx) + " exceeds the model's context of " +
                  std::to_string(c.max_position_embeddings));
    // llama.cpp replaces each chunk's first token by BOS when the model adds one.
    const int32_t bos = tokenizer.bos_id();
    if (tokenizer.default_add_bos() && bos >= 0)
      for (int64_t i = 0; i < plan.chunks; ++i) tokens[static_cast<size_t>(i * plan.n_ctx)] = bos;
    tokens.resize(static_cast<size_t>(plan.chunks * plan.n_ctx));
    if (base && !std::equal(tokens.begin(), tokens.end(), base->header().tokens.begin()))
      throw Error(opts->text + ": its tokens differ from those scored in " + opts->kl_base +
                  " (another text or tokenizer)");

    std::optional<io::AtomicOutput> base_out;
    std::optional<eval::KlBaseWriter> writer;
    if (!opts->kl_base.empty() && !base) {
      io::check_output_path(opts->kl_base, opts->force, {opts->text});
      base_out.emplace(opts->kl_base);
      writer.emplace(base_out->file(), opts->kl_base, eval::KlBaseHeader{plan.n_ctx, vocab, plan.chunks, tokens});
    }
    std::optional<eval::KlStats> kl;
    if (base) kl.emplace(vocab);

    std::fprintf(stderr, "perplexity: %lld chunks of %lld tokens, batch %lld, scoring %lld tokens per chunk\n",
                 static_cast<long long>(plan.chunks), static_cast<long long>(plan.n_ctx),
                 static_cast<long long>(opts->batch), static_cast<long long>(plan.scored_per_chunk()));
    ThreadPool pool(resolve_threads(opts->threads));
    model::Forward forward(*model, pool, opts->batch);
    eval::NllStats stats;
    std::vector<float> logits(static_cast<size_t>(std::min(opts->batch, plan.n_ctx) * vocab));
    Timer timer;
    int64_t base_row = 0;
    for (int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
      const int32_t* chunk_tokens = tokens.data() + chunk * plan.n_ctx;
      model::KvCache cache(c, plan.n_ctx);
      for (int64_t b0 = 0; b0 < plan.n_ctx; b0 += opts->batch) {
        int64_t n = std::min(opts->batch, plan.n_ctx - b0);
        forward.run(cache, {chunk_tokens + b0, static_cast<size_t>(n)}, model::LogitsFor::kAll, logits.data());
        for (int64_t j = std::max(b0, plan.first_scored()); j < std::min(b0 + n, plan.n_ctx - 1); ++j) {
          const float* row = logits.data() + (j - b0) * vocab;
          int32_t target = chunk_tokens[j + 1];
          int32_t top;
          stats.add(eval::token_nll(row, vocab, target, &top));
          if (writer) writer->add_row(row);
          if (kl) kl->add(base->row(base_row++), row, vocab, target);
        }
      }
      progress(chunk + 1, plan.chunks, timer.seconds());
      std::printf("[%lld]%.4f,", static_cast<long long>(chunk + 1), stats.ppl());
      std::fflush(stdout);
    }
    std::printf("\n");
    if (base_out) base_out->commit();
    std::fprintf(stderr, "perplexity: %.2f s, %.1f tokens/s\n", timer.seconds(),
                 static_cast<double>(plan.chunks * plan.n_ctx) / timer.seconds());
    std::printf("Final estimate: PPL = %.4f +/- %.4f\n", stats.ppl(), stats.ppl_error());
    if (kl) {
      std::printf("\n");
      kl->report(stdout);
    }
  });
}

}  // namespace mobilellm::cli
