// Our ids against tiktoken and Hugging Face tokenizers on a generated corpus
// (tools/reference/tokenizer/corpus.py). The corpus name comes from the
// environment so one binary serves the small (sanitizer) and full runs.
#include <gtest/gtest.h>

#include <cstdlib>

#include "fixtures.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {
namespace {

std::string corpus_name() {
  const char* name = std::getenv("MOBILELLM_TOKENIZER_CORPUS");
  return name ? name : "small";
}

// Index of the first differing id, with context, for a readable failure.
std::string describe(const std::vector<int32_t>& want, const std::vector<int32_t>& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  std::string s = "sizes " + std::to_string(want.size()) + " vs " + std::to_string(got.size()) +
                  ", first difference at " + std::to_string(i) + ": want";
  for (size_t k = i; k < want.size() && k < i + 6; ++k) s += " " + std::to_string(want[k]);
  s += " got";
  for (size_t k = i; k < got.size() && k < i + 6; ++k) s += " " + std::to_string(got[k]);
  return s;
}

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = test::reference_dir();
    docs_ = test::read_docs(dir / (corpus_name() + ".docs.bin"));
    ASSERT_GT(docs_.size(), 100u);
  }
  std::vector<std::optional<std::vector<int32_t>>> ids(const char* kind) const {
    return test::read_ids(test::reference_dir() / (corpus_name() + "." + kind + ".ids"), docs_.size());
  }
  void compare(const Tokenizer& tok, const char* kind, bool parse_special) const {
    auto want = ids(kind);
    size_t bytes = 0, failures = 0, compared = 0;
    for (size_t d = 0; d < docs_.size(); ++d) {
      if (!want[d]) continue;
      bytes += docs_[d].size();
      ++compared;
      std::vector<int32_t> got = tok.encode(docs_[d], {.parse_special = parse_special});
      if (got != *want[d] && ++failures <= 5)
        ADD_FAILURE() << kind << " document " << d << " (" << docs_[d].size() << " bytes): " << describe(*want[d], got);
      if (tok.decode(got) != docs_[d] && ++failures <= 5) ADD_FAILURE() << "document " << d << " does not round-trip";
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_GT(compared, 100u);
    std::printf("%s: %zu documents, %zu bytes compared\n", kind, compared, bytes);
  }
  std::vector<std::string> docs_;
};

TEST_F(CorpusTest, TiktokenPlainText) { compare(Tokenizer::load(test::model_path()), "plain", false); }

TEST_F(CorpusTest, TiktokenSpecialTokens) { compare(Tokenizer::load(test::model_path()), "special", true); }

TEST_F(CorpusTest, HuggingFaceTokenizerJson) {
  compare(Tokenizer::load(test::reference_dir() / "tokenizer.json"), "hf", true);
}

TEST_F(CorpusTest, InstalledHuggingFaceCheckpoint) {
  auto dir = std::filesystem::temp_directory_path() / ("mobilellm_tok_hf_install_" + corpus_name());
  std::filesystem::remove_all(dir);
  install_tokenizer_files(test::reference_dir() / "tokenizer.json", dir);
  Tokenizer installed = Tokenizer::load(dir);
  Tokenizer original = Tokenizer::load(test::reference_dir() / "tokenizer.json");
  for (size_t d = 0; d < docs_.size(); d += 7)
    EXPECT_EQ(installed.encode(docs_[d], {.parse_special = true}), original.encode(docs_[d], {.parse_special = true}));
  EXPECT_EQ(installed.vocab_size(), 202048);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mobilellm
