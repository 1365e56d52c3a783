// `mobilellm make-random`: a complete checkpoint directory with random weights.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "io/atomic_output.h"
#include "model/random_checkpoint.h"
#include "runtime/error.h"
#include "runtime/timer.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm::cli {

void add_make_random_command(CLI::App& app) {
  struct Options {
    std::string out, preset = "pro", tokenizer;
    uint64_t seed = 1;
    bool force = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "make-random", "Write a Hugging Face checkpoint with RANDOM weights (to try the engine, test and benchmark)");
  cmd->add_option("-o,--out", opts->out, "Output directory (new or empty)")->required();
  cmd->add_flag("--force", opts->force,
                "Write into a directory that is not empty, replacing the checkpoint files there");
  cmd->add_option("--preset", opts->preset,
                  "pro: full MobileLLM-Pro shape (1,084,453,120 parameters); tiny: same pattern, tiny width")
      ->check(CLI::IsMember({"pro", "tiny"}));
  cmd->add_option("--seed", opts->seed, "Random seed");
  cmd->add_option("--tokenizer", opts->tokenizer,
                  "Tokenizer to install into the checkpoint (tokenizer.model, tokenizer.json or a directory)");
  cmd->callback([opts] {
    Timer timer;
    const std::filesystem::path out(opts->out);
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec))
      throw Error(opts->out + ": exists and is not a directory");
    if (!opts->force && std::filesystem::is_directory(out, ec) && !std::filesystem::is_empty(out, ec))
      throw Error(opts->out + ": is not empty; use --force to write the checkpoint into it anyway");
    model::ModelConfig config = model::preset_config(opts->preset);
    model::write_random_checkpoint(config, opts->out, opts->seed);
    if (!opts->tokenizer.empty()) install_tokenizer_files(opts->tokenizer, opts->out);
    const std::string note = "This checkpoint was written by `mobilellm make-random --preset " + opts->preset +
                             " --seed " + std::to_string(opts->seed) +
                             "`.\nIts weights are random: it has the shape of MobileLLM-Pro but knows no language.\n";
    io::write_file_atomically(out / "random_weights.txt", note.data(), note.size());
    std::fprintf(stderr, "wrote %s: preset %s, %lld parameters, RANDOM weights (%.1f s)\n", opts->out.c_str(),
                 opts->preset.c_str(), static_cast<long long>(config.parameter_count()), timer.seconds());
  });
}

}  // namespace mobilellm::cli
