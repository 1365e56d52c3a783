// `mobilellm logits`: the logits of every position as raw little-endian
// float32 [number of ids][vocab_size], row-major (Session::logits). External
// checks depend on this contract: keep it exactly.
#include <cstdio>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "io/atomic_output.h"
#include "mobilellm/engine.h"
#include "runtime/error.h"

namespace mobilellm::cli {

void add_logits_command(CLI::App& app) {
  struct Options {
    std::string model, ids, out;
    int threads = 0;
    bool force = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the logits of every position of a token-id sequence");
  cmd->add_option(
         "-m,--model", opts->model,
         "Checkpoint directory, GGUF file, model file (mobilellm convert), or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")
      ->required();
  cmd->add_option("--ids", opts->ids, "Token ids, separated by spaces or commas")->required();
  cmd->add_option("--out", opts->out, "Output file: float32 little-endian [n_ids][vocab_size]")->required();
  cmd->add_flag("--force", opts->force, "Overwrite an existing output file");
  add_threads_option(cmd, opts->threads);
  cmd->callback([opts] {
    std::vector<int32_t> ids = parse_ids(opts->ids);
    if (ids.empty()) throw Error("--ids is empty");
    opts->model = resolve_model_arg(opts->model);
    io::check_output_path(opts->out, opts->force);
    auto engine = Engine::load({.model = opts->model,
                                .tokenizer = {},
                                .threads = resolve_threads(opts->threads),
                                .verify = false,
                                .require_tokenizer = false});
    const std::vector<float> logits =
        engine->new_session(std::min<int64_t>(static_cast<int64_t>(ids.size()), engine->info().max_context))
            ->logits(ids);
    io::write_file_atomically(opts->out, logits.data(), logits.size() * sizeof(float));
  });
}

}  // namespace mobilellm::cli
