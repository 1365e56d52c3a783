#pragma once
// Pieces shared by the subcommands: the -m argument, parsing id lists, thread
// counts, and the notice printed when a checkpoint's weights are random.
// Only the public API's vocabulary: run, chat and serve include it and are
// built with include/ alone on their path (tools/mobilellm/CMakeLists.txt).
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "mobilellm/engine.h"

namespace mobilellm::cli {

// What -m names: a local path as it is (a path always wins), else a Hub model
// ORG/NAME[:SELECTOR] found in the Hugging Face cache, downloaded first when it
// is missing unless HF_HUB_OFFLINE is set (then an Error names the pull to run).
std::string resolve_model_arg(const std::string& arg);
// "1 2 3" or "1,2,3" → ids; throws Error naming the bad entry.
std::vector<int32_t> parse_ids(const std::string& text);
// More threads than any machine we run on has cores: -t beyond it is a typo.
inline constexpr int kMaxThreads = 256;
// -t,--threads on a subcommand, 0 (all cores) to kMaxThreads.
void add_threads_option(CLI::App* cmd, int& threads);
// 0 → all cores.
int resolve_threads(int requested);
// Speculative decoding: --draft prompt|PATH and --draft-max K.
struct DraftOptions {
  std::string draft;  // empty: off; "prompt": prompt lookup; else a draft model
  int64_t draft_max = 8;
};
void add_draft_options(CLI::App* cmd, DraftOptions& options);
// Sets EngineOptions::draft_max and draft_model as they ask (a draft model
// named as -m takes it: a path or a Hub model).
void apply_draft_options(const DraftOptions& options, EngineOptions& engine);
// ", draft: 63% accepted, 2.41 tokens/pass" for an answer that speculated, else "".
std::string draft_summary(const GenerateResult& result);

// The notice on stderr that `model` (as the user named it) holds random weights.
void note_random_weights(const std::string& model);

}  // namespace mobilellm::cli
