// The single `mobilellm` executable: one subcommand per job.
#include <cstdio>
#include <exception>

#include <string>

#include "commands.h"
#include "mobilellm/engine.h"
#include "runtime/error.h"

int main(int argc, char** argv) {
  CLI::App app{"mobilellm: inference engine for Meta's MobileLLM-Pro"};
  app.set_version_flag(
      "--version",
      [] {
        const mobilellm::SystemInfo info = mobilellm::system_info();
        return "mobilellm " MOBILELLM_VERSION "\ncpu: " + info.cpu_features +
               "\nfloat kernels (bf16/f32 checkpoints): " + info.float_kernels +
               "\nquantized kernels (q4g32, q4cw, q4_1 models): " + info.quant_kernels;
      },
      "Print the version, the CPU features detected and the kernel table each path uses, and exit");
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();  // every command's --help shows its defaults
  mobilellm::cli::add_run_command(app);
  mobilellm::cli::add_logits_command(app);
  mobilellm::cli::add_make_random_command(app);
  mobilellm::cli::add_convert_command(app);
  mobilellm::cli::add_bench_command(app);
  mobilellm::cli::add_tokenize_commands(app);
  mobilellm::cli::add_chat_command(app);
  mobilellm::cli::add_serve_command(app);
  mobilellm::cli::add_perplexity_command(app);
  mobilellm::cli::add_pull_command(app);
  mobilellm::cli::add_verify_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
