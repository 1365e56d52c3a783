#pragma once
// `mobilellm bench --parallel N,…`: several generation streams at once
// through the public Engine, which batches their decode steps (continuous
// batching), as a server serves concurrent requests.
#include <cstdint>
#include <string>
#include <vector>

namespace mobilellm::cli {

struct ParallelBenchOptions {
  std::string model;
  int threads = 0;
  std::vector<int64_t> streams;  // N for each measurement
  int64_t prompt = 0;            // tokens of each stream's prompt
  int64_t gen = 0;               // tokens each stream generates
  int64_t prefill_chunk = 0;     // prompt tokens per step
  int64_t late_prompt = 0;       // >0: a request with this prompt arrives once the streams decode
  bool json = false;
};

void run_parallel_bench(const ParallelBenchOptions& options);

}  // namespace mobilellm::cli
