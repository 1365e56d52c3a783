// Behaviour of the public Tokenizer API that does not need a reference run:
// spec §5's known vector, the special-token table, errors on bad input, lossy
// UTF-8, streaming decode and installing into a checkpoint.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "fixtures.h"
#include "runtime/error.h"
#include "tokenizer/loaders.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace mobilellm {
namespace {

namespace fs = std::filesystem;

const Tokenizer& llama4() {
  static const Tokenizer tok = Tokenizer::load(test::model_path());
  return tok;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mobilellm_tok_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kKnownText =
    "<|begin_of_text|><|header_start|>user<|header_end|>\n\nWho are you?<|eot|><|header_start|>assistant<|header_end|>\n\n";
const std::vector<int32_t> kKnownIds = {200000, 200005, 1556,   200006, 368,    33267,  583,
                                        650,    43,     200008, 200005, 140680, 200006, 368};

TEST(Tokenizer, KnownVectorOfSpec) {
  EXPECT_EQ(llama4().encode(kKnownText, {.parse_special = true}), kKnownIds);
  EXPECT_EQ(llama4().decode(kKnownIds), kKnownText);
}

TEST(Tokenizer, SpecialTokenTextIsPlainUnlessAsked) {
  std::vector<int32_t> plain = llama4().encode("<|eot|>");
  EXPECT_GT(plain.size(), 1u);
  for (int32_t id : plain) EXPECT_LT(id, 200000);
  EXPECT_EQ(llama4().encode("<|eot|>", {.parse_special = true}), std::vector<int32_t>{200008});
  EXPECT_EQ(llama4().encode("hi", {.add_bos = true}).front(), 200000);
}

TEST(Tokenizer, SpecialTokensFollowTheSharedList) {
  std::istringstream tsv(test::read_all(test::data_dir() / "special_tokens.tsv"));
  std::string line;
  int rows = 0;
  while (std::getline(tsv, line)) {
    size_t tab = line.find('\t');
    int32_t id = std::stoi(line.substr(0, tab));
    std::string text = line.substr(tab + 1);
    EXPECT_EQ(llama4().token_bytes(id), text);
    EXPECT_EQ(llama4().find_special(text), id);
    EXPECT_TRUE(llama4().is_special(id));
    ++rows;
  }
  EXPECT_EQ(rows, 2048);
  EXPECT_EQ(llama4().vocab_size(), 202048);
  EXPECT_FALSE(llama4().is_special(199999));
  EXPECT_EQ(llama4().bos_id(), 200000);
  EXPECT_EQ(std::vector<int32_t>(llama4().eos_ids().begin(), llama4().eos_ids().end()),
            (std::vector<int32_t>{200001, 200007, 200008}));
}

TEST(Tokenizer, InvalidUtf8IsAnErrorUnlessLossy) {
  std::string bad = "ok \xC3\x28 \xED\xA0\x80 \xF4\x90\x80\x80 \xE2\x82";
  EXPECT_NE(error_of([&] { llama4().encode(bad); }).find("not valid UTF-8 (byte 3)"), std::string::npos);
  std::vector<int32_t> ids = llama4().encode(bad, {.lossy_utf8 = true});
  EXPECT_EQ(llama4().decode(ids), tokenizer::replace_invalid_utf8(bad));
  // Maximal subparts, as Python's errors="replace": C3 -> 1, ED A0 80 -> 3, F4 90 80 80 -> 4, E2 82 -> 1.
  EXPECT_EQ(
      tokenizer::replace_invalid_utf8(bad),
      "ok \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST(Tokenizer, DecodeRejectsUnknownIds) {
  EXPECT_NE(error_of([] {
              llama4().decode(std::vector<int32_t>{5, 202048});
            }).find("outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([] { llama4().token_bytes(-1); }).find("outside"), std::string::npos);
}

TEST(Tokenizer, StreamDecoderNeverSplitsACharacter) {
  std::string text = "héllo 世界 👨‍👩‍👧 ok";
  std::vector<int32_t> ids = llama4().encode(text);
  // Byte tokens make every multi-byte character arrive in pieces.
  std::vector<int32_t> bytes;
  for (unsigned char c : text) {
    char ch = static_cast<char>(c);
    for (int32_t id = 0; id < 256; ++id)
      if (llama4().token_bytes(id) == std::string_view(&ch, 1)) bytes.push_back(id);
  }
  ASSERT_EQ(bytes.size(), text.size());
  for (const auto& seq : {ids, bytes}) {
    StreamDecoder dec(llama4());
    std::string out;
    for (int32_t id : seq) {
      std::string piece = dec.push(id);
      EXPECT_EQ(tokenizer::find_invalid_utf8(piece), std::string::npos);
      out += piece;
    }
    out += dec.flush();
    EXPECT_EQ(out, text);
  }
  StreamDecoder dec(llama4());
  EXPECT_EQ(dec.push(bytes[0]), "h");
  EXPECT_EQ(dec.push(bytes[1]), "");  // the first byte of 'é' is held
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
}

TEST(Tokenizer, MalformedTiktokenFileNamesTheLine) {
  fs::path dir = temp_dir("bad_model");
  write(dir / "a.model", "IQ== 0\nIg== 1\nnot_base64! 2\n");
  EXPECT_NE(error_of([&] { Tokenizer::load(dir / "a.model"); }).find("a.model:3: token is not valid base64"),
            std::string::npos);
  write(dir / "b.model", "IQ== 0\nIg== 5\n");
  EXPECT_NE(error_of([&] { Tokenizer::load(dir / "b.model"); }).find("b.model:2: rank 5 out of order"),
            std::string::npos);
  write(dir / "c.model", "IQ==\n");
  EXPECT_NE(error_of([&] { Tokenizer::load(dir / "c.model"); }).find("c.model:1: expected"), std::string::npos);
  write(dir / "d.model", "IQ== 0\n");
  EXPECT_NE(error_of([&] { Tokenizer::load(dir / "d.model"); }).find("no token for the byte"), std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load(dir / "missing"); }).find("no such file"), std::string::npos);
  EXPECT_NE(error_of([&] { Tokenizer::load(dir); }).find("no tokenizer.json or tokenizer.model"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Tokenizer, MalformedTokenizerJsonNamesThePath) {
  fs::path dir = temp_dir("bad_json");
  auto check = [&](const std::string& json, const std::string& want) {
    write(dir / "tokenizer.json", json);
    std::string err = error_of([&] { Tokenizer::load(dir / "tokenizer.json"); });
    EXPECT_NE(err.find(want), std::string::npos) << err;
  };
  check("{", "not valid JSON");
  check(R"({"model": {"dropout": 1e999}})", "not valid JSON");  // a number nlohmann cannot hold
  check(R"({"model": {"type": "WordPiece"}})", "model.type: only \"BPE\"");
  std::string pre = R"("pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";
  check(R"({)" + pre + R"(, "model": {"type": "BPE", "vocab": {"a": 0, "b": "x"}, "merges": []}})",
        "model.vocab[\"b\"]: expected a token id");
  check(R"({)" + pre + R"(, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}})",
        "model.merges[0]: \"c\" is not in model.vocab");
  check(
      R"({)" + pre +
          R"(, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"id": 1, "content": "x", "lstrip": true}]})",
      "added_tokens[0].lstrip: not supported");
  check(R"({"pre_tokenizer": {"type": "Whitespace"}, "model": {"type": "BPE", "vocab": {}, "merges": []}})",
        "pre_tokenizer.type");
  fs::remove_all(dir);
}

TEST(Tokenizer, InstallIntoCheckpointGivesTheSameIds) {
  fs::path dir = temp_dir("install");
  install_tokenizer_files(test::model_path(), dir);
  EXPECT_TRUE(fs::exists(dir / "tokenizer.model"));
  EXPECT_TRUE(fs::exists(dir / "tokenizer_config.json"));
  Tokenizer tok = Tokenizer::load(dir);
  EXPECT_EQ(tok.encode(kKnownText, {.parse_special = true}), kKnownIds);
  EXPECT_EQ(tok.vocab_size(), 202048);
  EXPECT_EQ(tok.bos_token(), "<|begin_of_text|>");
  EXPECT_EQ(std::vector<int32_t>(tok.eos_ids().begin(), tok.eos_ids().end()),
            (std::vector<int32_t>{200001, 200007, 200008}));
  fs::remove_all(dir);
}

TEST(Tokenizer, CheckpointConfigAddsTokensAndTemplate) {
  fs::path dir = temp_dir("config");
  fs::copy_file(test::model_path(), dir / "tokenizer.model");
  write(dir / "tokenizer_config.json",
        R"({"added_tokens_decoder": {"201144": {"content": "<|my_tool|>", "special": true}},
    "chat_template": "{{ bos_token }}hi", "bos_token": "<|begin_of_text|>"})");
  Tokenizer tok = Tokenizer::load(dir);
  EXPECT_EQ(tok.find_special("<|my_tool|>"), 201144);
  EXPECT_EQ(tok.encode("<|my_tool|>", {.parse_special = true}), std::vector<int32_t>{201144});
  EXPECT_EQ(tok.chat_template(), "{{ bos_token }}hi");
  write(dir / "tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "a"}}})");
  EXPECT_NE(error_of([&] { Tokenizer::load(dir); }).find("added_tokens_decoder[\"x\"]: key is not a token id"),
            std::string::npos);
  fs::remove_all(dir);
}

// A model file's tokenizer loads from memory: the same files as a checkpoint
// directory give the same tokenizer, and bad ones name the origin and file.
TEST(Tokenizer, FilesInMemoryLoadLikeADirectory) {
  fs::path dir = temp_dir("memory");
  install_tokenizer_files(test::model_path(), dir);
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    files[entry.path().filename().string()] = test::read_all(entry.path());
  const Tokenizer from_dir = Tokenizer::load(dir);
  const Tokenizer from_memory = Tokenizer::load_files("model.q4g32", files);
  EXPECT_EQ(from_memory.encode(kKnownText, {.parse_special = true}), kKnownIds);
  EXPECT_EQ(from_memory.vocab_size(), from_dir.vocab_size());
  EXPECT_EQ(from_memory.bos_token(), from_dir.bos_token());
  EXPECT_EQ(from_memory.chat_template(), from_dir.chat_template());
  EXPECT_EQ(std::vector<int32_t>(from_memory.eos_ids().begin(), from_memory.eos_ids().end()),
            std::vector<int32_t>(from_dir.eos_ids().begin(), from_dir.eos_ids().end()));

  files["tokenizer_config.json"] = R"({"added_tokens_decoder": {"x": {"content": "a"}}})";
  EXPECT_EQ(error_of([&] { Tokenizer::load_files("model.q4g32", files); }),
            "model.q4g32 (tokenizer_config.json): added_tokens_decoder[\"x\"]: key is not a token id");
  EXPECT_EQ(error_of([&] {
              Tokenizer::load_files("model.q4g32", {{"tokenizer.json", "{"}});
            }).rfind("model.q4g32 (tokenizer.json): not valid JSON", 0),
            0u);
  EXPECT_EQ(error_of([&] {
              Tokenizer::load_files("model.q4g32", {{"tokenizer.model", "IQ== 0\nIg== 5\n"}});
            }),
            "model.q4g32 (tokenizer.model):2: rank 5 out of order (expected 1)");
  EXPECT_EQ(error_of([&] {
              Tokenizer::load_files("model.q4g32", {{"config.json", "{}"}});
            }),
            "model.q4g32: no tokenizer.json or tokenizer.model among its tokenizer files");
  fs::remove_all(dir);
}

TEST(Tokenizer, LongRunsFollowTheChunkingRules) {
  // 30,000 spaces then a letter: the run is cut at 25,000 code points, so the
  // last space does not join the letter as it would in one regex pass.
  std::string text(30000, ' ');
  text += "x";
  std::vector<int32_t> ids = llama4().encode(text);
  EXPECT_EQ(llama4().decode(ids), text);
  std::vector<int32_t> first = llama4().encode(std::string(25000, ' '));
  ASSERT_LE(first.size(), ids.size());
  EXPECT_TRUE(std::equal(first.begin(), first.end(), ids.begin()));
}

}  // namespace
}  // namespace mobilellm
