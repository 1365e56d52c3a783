#pragma once
// Pieces shared by the subcommands: parsing id lists, thread counts, and the
// notice printed when a checkpoint's weights are random.
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace mobilellm::cli {

// "1 2 3" or "1,2,3" → ids; throws Error naming the bad entry.
std::vector<int32_t> parse_ids(const std::string& text);
// 0 → all cores.
int resolve_threads(int requested);
// Prints a notice to stderr when the checkpoint was written by make-random.
void warn_if_random(const model::Model& model);

}  // namespace mobilellm::cli
