// The single `mobilellm` executable: one subcommand per job.
#include <cstdio>
#include <exception>

#include "commands.h"
#include "runtime/error.h"

int main(int argc, char** argv) {
  CLI::App app{"mobilellm: inference engine for Meta's MobileLLM-Pro"};
  app.set_version_flag("--version", "mobilellm " MOBILELLM_VERSION);
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
