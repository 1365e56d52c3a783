// Replays the libFuzzer harness (fuzz/io/fuzz_safetensors.cpp) under the
// regular build, ASan included: the seed corpus as is, then deterministic
// mutations of it. Reproducible on any compiler, and it keeps the harness's
// contract checked in every CI run: rejections are mobilellm::Error, accepted
// tensors lie inside the buffer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::vector<uint8_t>> load_corpus() {
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(MOBILELLM_IO_CORPUS_DIR)) files.push_back(f.path());
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

// Tokens that steer mutations into the interesting corners of the header.
const std::vector<std::string> kTokens = {"\"dtype\"",
                                          "\"shape\"",
                                          "\"data_offsets\"",
                                          "\"__metadata__\"",
                                          "\"F4\"",
                                          "\"BF16\"",
                                          "\"C64\"",
                                          "18446744073709551615",
                                          "9223372036854775807",
                                          "4294967296",
                                          "-1",
                                          "1e30",
                                          "0.5",
                                          "null",
                                          "[]",
                                          "{}",
                                          "[0,0]",
                                          ",",
                                          ":",
                                          "\"",
                                          "\\u0000",
                                          "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}"};

std::vector<uint8_t> mutate(std::vector<uint8_t> v, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int steps = 1 + static_cast<int>(rng() % 3);
  for (int s = 0; s < steps; ++s) {
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!v.empty()) v[pick(v.size())] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!v.empty()) v[pick(v.size())] = static_cast<uint8_t>(rng());
        break;
      case 2: {  // insert a token
        const auto& t = kTokens[pick(kTokens.size())];
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(pick(v.size() + 1)), t.begin(), t.end());
        break;
      }
      case 3: {  // erase a range
        const size_t at = pick(v.size() + 1), n = std::min(v.size() - at, pick(16) + 1);
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 4:  // truncate
        v.resize(pick(v.size() + 1));
        break;
      case 5: {  // rewrite the header length: near the truth, or anything
        if (v.size() < 8) break;
        uint64_t len = 0;
        for (int i = 7; i >= 0; --i) len = len << 8 | v[i];
        len = rng() % 2 ? len + static_cast<uint64_t>(static_cast<int64_t>(rng() % 17) - 8) : rng();
        for (int i = 0; i < 8; ++i) v[i] = static_cast<uint8_t>(len >> (8 * i));
        break;
      }
      case 6: {  // replace a digit run with a token, to bend shapes and offsets
        if (v.empty()) break;
        const size_t at = pick(v.size());
        auto digit = std::find_if(v.begin() + static_cast<std::ptrdiff_t>(at), v.end(),
                                  [](uint8_t c) { return c >= '0' && c <= '9'; });
        if (digit == v.end()) break;
        auto end = std::find_if(digit, v.end(), [](uint8_t c) { return c < '0' || c > '9'; });
        const auto& t = kTokens[7 + pick(6)];  // the numbers among the tokens
        const auto pos = v.erase(digit, end);
        v.insert(pos, t.begin(), t.end());
        break;
      }
    }
  }
  return v;
}

TEST(SafetensorsFuzzReplay, SeedCorpus) {
  const auto corpus = load_corpus();
  ASSERT_GE(corpus.size(), 5u);
  for (const auto& seed : corpus) run(seed);
}

TEST(SafetensorsFuzzReplay, DeterministicMutations) {
  const auto corpus = load_corpus();
  std::mt19937_64 rng(20240611);
  constexpr int kMutationsPerSeed = 2000;
  for (const auto& seed : corpus) {
    for (int i = 0; i < kMutationsPerSeed; ++i) run(mutate(seed, rng));
  }
}

}  // namespace
