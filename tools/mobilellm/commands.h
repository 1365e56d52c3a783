#pragma once
// Each subcommand of the `mobilellm` executable lives in its own cmd_*.cpp and
// registers itself on the CLI11 app here.
#include <CLI/CLI.hpp>

namespace mobilellm::cli {

void add_run_command(CLI::App& app);
void add_logits_command(CLI::App& app);
void add_make_random_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_tokenize_commands(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_pull_command(CLI::App& app);
void add_verify_command(CLI::App& app);

}  // namespace mobilellm::cli
