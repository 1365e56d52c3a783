// `mobilellm logits`: the logits of every position as raw little-endian
// float32 [number of ids][vocab_size], row-major. External checks depend on
// this contract: keep it exactly.
#include <cstdio>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "io/atomic_output.h"
#include "model/forward.h"
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
    auto model = model::Model::load(opts->model);
    const auto& c = model->config();
    ThreadPool pool(resolve_threads(opts->threads));
    model::KvCache cache(c, std::max<int64_t>(static_cast<int64_t>(ids.size()), 1));
    model::Forward forward(*model, pool);
    std::vector<float> logits(ids.size() * static_cast<size_t>(c.vocab_size));
    forward.run(cache, ids, model::LogitsFor::kAll, logits.data());
    io::write_file_atomically(opts->out, logits.data(), logits.size() * sizeof(float));
  });
}

}  // namespace mobilellm::cli
