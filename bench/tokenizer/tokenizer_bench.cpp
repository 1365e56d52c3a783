// Encode throughput of the tokenizer, one thread, on a corpus file written by
// bench/tokenizer/compare_tiktoken.py (u32 count, then u32 length + bytes per
// document). Prints one line of JSON so the script can set it beside tiktoken.
//
//   tokenizer_bench TOKENIZER CORPUS [REPEATS]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER CORPUS [REPEATS]\n", argv[0]);
    return 2;
  }
  int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  std::ifstream in(argv[2], std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), {});
  if (data.size() < 4) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 1;
  }
  auto u32 = [&](size_t& pos) {
    uint32_t v;
    std::memcpy(&v, data.data() + pos, 4);
    pos += 4;
    return v;
  };
  size_t pos = 0;
  std::vector<std::string> docs(u32(pos));
  size_t bytes = 0;
  for (auto& d : docs) {
    uint32_t n = u32(pos);
    d = data.substr(pos, n);
    pos += n;
    bytes += n;
  }

  auto t0 = std::chrono::steady_clock::now();
  mobilellm::Tokenizer tok = mobilellm::Tokenizer::load(argv[1]);
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Wall time and this thread's CPU time: on a shared machine the CPU time
  // is the steadier of the two.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  double best = 1e30, best_cpu = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < repeats; ++r) {
    tokens = 0;
    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_now();
    for (const auto& d : docs) tokens += tok.encode(d).size();
    best_cpu = std::min(best_cpu, cpu_now() - cpu_start);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf(
      "{\"engine\": \"mobilellm\", \"bytes\": %zu, \"documents\": %zu, \"tokens\": %zu, \"seconds\": %.4f, "
      "\"cpu_seconds\": %.4f, \"load_seconds\": %.3f}\n",
      bytes, docs.size(), tokens, best, best_cpu, load_s);
  return 0;
}
