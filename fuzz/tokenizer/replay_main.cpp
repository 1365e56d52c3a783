// Runs the fuzz target without libFuzzer (any compiler): every file of the
// given corpus directories, then random inputs derived from them by byte
// mutations, for a number of runs or seconds. CTest uses this so a short
// fuzz run is part of every build, sanitizers included.
//
//   tokenizer_fuzz_replay [--runs N] [--seconds S] [--seed X] DIR...
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long runs = 20000;
  double seconds = 1e9;
  uint64_t seed = 1;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc)
      runs = std::stol(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc)
      seconds = std::stod(argv[++i]);
    else if (a == "--seed" && i + 1 < argc)
      seed = std::stoull(argv[++i]);
    else
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        std::ifstream in(e.path(), std::ios::binary);
        seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
  }
  if (seeds.empty()) seeds.emplace_back("\x00hello", 6);
  for (const auto& s : seeds) LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());

  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  long done = 0;
  for (; done < runs; ++done) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) break;
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t pos = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 4) {
        case 0:
          if (!s.empty()) s[pos] = static_cast<char>(rng());
          break;
        case 1: s.insert(pos, 1, static_cast<char>(rng())); break;
        case 2:
          if (!s.empty()) s.erase(pos, 1 + rng() % 4);
          break;
        case 3:
          if (!s.empty()) s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16));
          break;
      }
    }
    if (!s.empty() && rng() % 4 == 0) s[0] = static_cast<char>(rng() % 5);  // visit every part
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::printf("tokenizer fuzz replay: %zu seed inputs, %ld mutated inputs, no finding\n", seeds.size(), done);
  return 0;
}
