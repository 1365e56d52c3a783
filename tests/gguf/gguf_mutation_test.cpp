// Replays the libFuzzer harness (fuzz/gguf/fuzz_gguf.cpp) under the regular
// build, ASan included: the seed corpus as is, then deterministic mutations of
// it aimed at GGUF's binary fields (counts, lengths, types, offsets).
// Reproducible on any compiler, and it keeps the harness's contract checked in
// every CI run: rejections are mobilellm::Error, accepted tensors lie inside
// the buffer and dequantize.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::vector<uint8_t>> load_corpus() {
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(MOBILELLM_GGUF_CORPUS_DIR)) files.push_back(f.path());
  std::sort(files.begin(), files.end());  // directory order is not deterministic
  std::vector<std::vector<uint8_t>> corpus;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return corpus;
}

// Exactly `bytes.size()` bytes on the heap, so ASan flags a read one past the end.
void run(const std::vector<uint8_t>& bytes) {
  auto exact = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), exact.get());
  LLVMFuzzerTestOneInput(exact.get(), bytes.size());
}

// Values that sit on the edges of GGUF's counts, lengths, types and offsets.
const uint64_t kInteresting[] = {0,
                                 1,
                                 2,
                                 3,
                                 4,
                                 5,
                                 7,
                                 8,
                                 9,
                                 12,
                                 13,
                                 14,
                                 15,
                                 16,
                                 30,
                                 31,
                                 32,
                                 33,
                                 63,
                                 64,
                                 255,
                                 256,
                                 4096,
                                 0x7fffffff,
                                 0x80000000,
                                 0xffffffff,
                                 1ull << 32,
                                 1ull << 62,
                                 0x7fffffffffffffff,
                                 0x8000000000000000,
                                 0xffffffffffffffe0,
                                 0xffffffffffffffff};

std::vector<uint8_t> mutate(std::vector<uint8_t> v, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int steps = 1 + static_cast<int>(rng() % 3);
  for (int s = 0; s < steps; ++s) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!v.empty()) v[pick(v.size())] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!v.empty()) v[pick(v.size())] = static_cast<uint8_t>(rng());
        break;
      case 2:  // write an interesting 4- or 8-byte value at a 4-byte boundary (GGUF fields mostly are)
      case 3: {
        const size_t width = rng() % 2 ? 4 : 8;
        if (v.size() < width) break;
        const size_t at = pick((v.size() - width) / 4 + 1) * 4;
        const uint64_t value = kInteresting[pick(std::size(kInteresting))];
        std::memcpy(v.data() + at, &value, width);
        break;
      }
      case 4: {  // erase a range
        const size_t at = pick(v.size() + 1), n = std::min(v.size() - at, pick(16) + 1);
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 5:  // truncate
        v.resize(pick(v.size() + 1));
        break;
    }
  }
  return v;
}

TEST(GgufFuzzReplay, SeedCorpus) {
  const auto corpus = load_corpus();
  ASSERT_GE(corpus.size(), 8u);
  for (const auto& seed : corpus) run(seed);
}

TEST(GgufFuzzReplay, DeterministicMutations) {
  const auto corpus = load_corpus();
  std::mt19937_64 rng(20251205);
  constexpr int kMutationsPerSeed = 2000;
  for (const auto& seed : corpus) {
    for (int i = 0; i < kMutationsPerSeed; ++i) run(mutate(seed, rng));
  }
}

}  // namespace
