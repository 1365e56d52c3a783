// `mobilellm convert`: a Hugging Face checkpoint → one model file.
#include <unistd.h>

#include <cstdio>

#include "cli_common.h"
#include "commands.h"
#include "convert/convert.h"
#include "runtime/timer.h"

namespace mobilellm::cli {
namespace {

// On a terminal, one line on stderr redrawn in place: bar, percent, elapsed
// time, tensor. Into a log, a plain line at every tenth, so logs stay short.
void draw_progress(uint64_t done, uint64_t total, const std::string& tensor, double seconds) {
  constexpr int kWidth = 30;
  const double f = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  static const bool terminal = isatty(STDERR_FILENO);
  if (!terminal) {
    static int logged_tenths = -1;
    const int tenths = static_cast<int>(f * 10);
    if (tenths == logged_tenths) return;
    logged_tenths = tenths;
    std::fprintf(stderr, "%3d%% %5.1f s  %s\n", tenths * 10, seconds, tensor.c_str());
    return;
  }
  const int filled = static_cast<int>(f * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
  std::fprintf(stderr, "\r[%s] %3.0f%% %5.1f s  %-48.48s", bar.c_str(), 100.0 * f, seconds, tensor.c_str());
  std::fflush(stderr);
}

}  // namespace

void add_convert_command(CLI::App& app) {
  struct Options {
    std::string model, out, scheme = format::scheme_name(format::Scheme::kQ4G32);
    int threads = 0;
    bool force = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a Hugging Face checkpoint into one mobilellm model file");
  cmd->add_option(
         "-m,--model", opts->model,
         "Checkpoint directory (config.json + safetensors), GGUF file, or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")
      ->required();
  cmd->add_option("-o,--out", opts->out, "Model file to write (written under a temporary name, renamed when complete)")
      ->required();
  cmd->add_flag("--force", opts->force, "Overwrite an existing output file (never one of the checkpoint's own files)");
  cmd->add_option("--scheme", opts->scheme,
                  "q4g32: int4 group-32 weights (CPU scheme, spec §4.1); q4cw: int4 per-row weights with learned "
                  "scales (spec §4.2); q4_1: asymmetric int4 group-32 weights, ggml's Q4_1 (fp16 step and minimum "
                  "per 32 weights; a GGUF's Q4_1 blocks are kept as they are); bf16; f32")
      ->check(CLI::IsMember(format::scheme_names()))
      ->capture_default_str();
  add_threads_option(cmd, opts->threads);
  cmd->callback([opts] {
    Timer timer;
    convert::ConvertOptions o;
    o.input = resolve_model_arg(opts->model);
    o.output = opts->out;
    o.scheme = opts->scheme;
    o.overwrite = opts->force;
    o.threads = resolve_threads(opts->threads);
    o.progress = [&](uint64_t done, uint64_t total, const std::string& tensor) {
      draw_progress(done, total, tensor, timer.seconds());
    };
    const convert::ConvertReport r = convert::convert_checkpoint(o);
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    for (const auto& name : r.unknown_tensors)
      std::fprintf(stderr, "warning: tensor \"%s\" is not part of the model; it was left out\n", name.c_str());
    for (const auto& name : r.kept_float)
      std::fprintf(stderr, "note: tensor \"%s\" kept in f32: its column count is not a multiple of 32\n", name.c_str());
    if (r.gguf_blocks_kept)
      std::fprintf(stderr, "kept the GGUF's Q4_1 blocks of %lld matrices as they are (no re-rounding)\n",
                   static_cast<long long>(r.gguf_blocks_kept));
    if (!r.gguf_requantized.empty()) {
      std::string list;
      for (const auto& name : r.gguf_requantized) list += (list.empty() ? "" : ", ") + name;
      std::fprintf(stderr, "re-quantized or rounded from the GGUF's values into --scheme %s: %s\n",
                   opts->scheme.c_str(), list.c_str());
    }
    for (const auto& tensor : r.kept_bf16)
      std::fprintf(stderr, "note: %s kept in bf16: its columns are not a multiple of 32, as %s needs\n", tensor.c_str(),
                   opts->scheme.c_str());
    if (r.learned_scales_used)
      std::fprintf(stderr, "used %lld learned weight_fake_quantizer scales\n",
                   static_cast<long long>(r.learned_scales_used));
    if (r.learned_scales_ignored)
      std::fprintf(stderr, "note: %lld weight_fake_quantizer scales are not used by --scheme %s\n",
                   static_cast<long long>(r.learned_scales_ignored), opts->scheme.c_str());
    std::fprintf(stderr, "wrote %s: scheme %s, %lld tensors, %.1f MB (%.1f MiB) in %.1f s\n", opts->out.c_str(),
                 opts->scheme.c_str(), static_cast<long long>(r.tensors_written), r.file_bytes / 1e6,
                 r.file_bytes / 1048576.0, timer.seconds());
  });
}

}  // namespace mobilellm::cli
