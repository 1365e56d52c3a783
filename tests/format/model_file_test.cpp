// The model file: a written file reads back exactly; every kind of damage
// (truncation, a foreign file, a corrupted header, index or tensor, an entry
// that lies about its size or place) is an Error that says what and where.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <unistd.h>

#include "format/crc32c.h"
#include "format/model_file.h"
#include "runtime/error.h"

namespace mobilellm::format {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mobilellm_format_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A small valid file: an f32 vector, a bf16 matrix, a q4g32 matrix, a blob.
  fs::path write_sample() {
    const fs::path path = dir_ / "sample.mllm";
    ModelFileWriter w(path);
    std::vector<float> norm(16);
    std::iota(norm.begin(), norm.end(), 1.0f);
    w.add_tensor("model.norm.weight", TensorType::kF32, {16}, norm.data(), norm.size() * 4);
    std::vector<uint16_t> m(3 * 5, 0x3f80);
    w.add_tensor("m", TensorType::kBF16, {3, 5}, m.data(), m.size() * 2);
    std::vector<uint8_t> q(tensor_bytes(TensorType::kQ4G32, {9, 64}, "q"), 0x88);
    w.add_tensor("q", TensorType::kQ4G32, {9, 64}, q.data(), q.size());
    const std::string tok = "{\"model\": {}}";
    w.add_blob("tokenizer.json", tok.data(), tok.size());
    w.finish(Scheme::kQ4G32, KvCacheType::kInt8, json{{"hidden_size", 16}}, nullptr, json{{"checkpoint", "x"}});
    return path;
  }

  std::vector<uint8_t> read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }
  std::string error_of(const std::vector<uint8_t>& bytes) {
    try {
      parse_model_file(bytes.data(), bytes.size(), "f.mllm");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  // Rewrites the index (keeping the header consistent) after `edit`.
  std::vector<uint8_t> with_index(std::vector<uint8_t> bytes, const std::function<void(json&)>& edit) {
    uint64_t offset;
    std::memcpy(&offset, bytes.data() + 24, 8);
    json index = json::parse(bytes.begin() + static_cast<long>(offset), bytes.end());
    edit(index);
    const std::string text = index.dump();
    bytes.resize(offset);
    bytes.insert(bytes.end(), text.begin(), text.end());
    const uint64_t size = bytes.size(), index_bytes = text.size();
    const uint32_t crc = crc32c(text.data(), text.size());
    std::memcpy(bytes.data() + 16, &size, 8);
    std::memcpy(bytes.data() + 32, &index_bytes, 8);
    std::memcpy(bytes.data() + 40, &crc, 4);
    return bytes;
  }

  fs::path dir_;
};

TEST_F(ModelFileTest, RoundTrip) {
  const fs::path path = write_sample();
  EXPECT_FALSE(fs::exists(path.string() + ".partial-" + std::to_string(::getpid())));
  EXPECT_TRUE(is_model_file(path));
  EXPECT_FALSE(is_model_file(dir_));
  auto file = ModelFile::open(path);
  EXPECT_EQ(file->index().scheme, Scheme::kQ4G32);
  EXPECT_EQ(file->index().config["hidden_size"], 16);
  EXPECT_TRUE(file->index().generation.is_null());
  ASSERT_EQ(file->index().tensors.size(), 3u);
  const TensorInfo* norm = file->find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->offset % kAlignment, 0u);
  const float* v = reinterpret_cast<const float*>(file->data(*norm));
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[15], 16.0f);
  const TensorInfo* q = file->find("q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, TensorType::kQ4G32);
  EXPECT_EQ(q->bytes, 2u * 2 * 144 + 16 * 4);
  ASSERT_NE(file->find_blob("tokenizer.json"), nullptr);
  EXPECT_EQ(file->blob(*file->find_blob("tokenizer.json")), "{\"model\": {}}");
  EXPECT_NO_THROW(file->verify_data());
}

TEST_F(ModelFileTest, Q4_1TensorsAndScheme) {
  const fs::path path = dir_ / "q4_1.mllm";
  ModelFileWriter w(path);
  std::vector<uint8_t> q(tensor_bytes(TensorType::kQ4_1, {9, 64}, "q"), 0);
  EXPECT_EQ(q.size(), 2u * 2 * 160 + 16 * 4);  // tiles × groups × (128 code + 32 d/m bytes) + row terms
  w.add_tensor("q", TensorType::kQ4_1, {9, 64}, q.data(), q.size());
  w.finish(Scheme::kQ4_1, KvCacheType::kInt8, json{{"hidden_size", 16}}, nullptr, json{{"checkpoint", "x"}});
  auto file = ModelFile::open(path);
  EXPECT_EQ(file->index().scheme, Scheme::kQ4_1);
  EXPECT_EQ(file->find("q")->type, TensorType::kQ4_1);
  EXPECT_EQ(q4_scheme(TensorType::kQ4_1), quant::Q4Scheme::kAffine32);
  EXPECT_EQ(q4_scheme(TensorType::kBF16), std::nullopt);
  // A q4_1 entry whose byte count is that of q4g32 is rejected.
  const auto bad = with_index(read(path), [](json& index) { index["tensors"][0]["bytes"] = 2 * 2 * 144 + 16 * 4; });
  EXPECT_NE(error_of(bad).find("type q4_1 shape [9, 64] needs 704"), std::string::npos) << error_of(bad);
}

TEST_F(ModelFileTest, TruncatedAnywhere) {
  const std::vector<uint8_t> bytes = read(write_sample());
  for (size_t cut : {size_t{0}, size_t{10}, size_t{63}, size_t{64}, size_t{5000}, bytes.size() - 1}) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    const std::string e = error_of(part);
    EXPECT_FALSE(e.empty()) << cut;
    if (cut >= 64) {
      EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    }
  }
}

TEST_F(ModelFileTest, ForeignOrNewerFiles) {
  std::vector<uint8_t> bytes = read(write_sample());
  std::vector<uint8_t> other = bytes;
  other[0] = 'X';
  EXPECT_NE(error_of(other).find("not a mobilellm model file"), std::string::npos);
  other = bytes;
  other[8] = 2;
  EXPECT_NE(error_of(other).find("version 2"), std::string::npos);
  other = bytes;
  other.push_back(0);
  EXPECT_NE(error_of(other).find("trailing"), std::string::npos);
}
// The index records the KV-cache storage; a file written before the field
// existed gets its scheme's default (int8 for q4g32 and q4_1, as the loader
// decided from the scheme before).
TEST_F(ModelFileTest, KvCacheFieldAndItsDefault) {
  const std::vector<uint8_t> bytes = read(write_sample());
  EXPECT_EQ(parse_model_file(bytes.data(), bytes.size(), "f.mllm").kv_cache, KvCacheType::kInt8);
  const auto f32 = with_index(bytes, [](json& j) { j["kv_cache"] = "f32"; });
  EXPECT_EQ(parse_model_file(f32.data(), f32.size(), "f.mllm").kv_cache, KvCacheType::kF32);
  struct Old {
    const char* scheme;
    KvCacheType kv_cache;
  };
  for (const Old& old :
       {Old{"q4g32", KvCacheType::kInt8}, Old{"q4_1", KvCacheType::kInt8}, Old{"q4cw", KvCacheType::kF32},
        Old{"bf16", KvCacheType::kF32}, Old{"f32", KvCacheType::kF32}}) {
    const auto m = with_index(bytes, [&](json& j) {
      j.erase("kv_cache");
      j["scheme"] = old.scheme;
    });
    EXPECT_EQ(parse_model_file(m.data(), m.size(), "f.mllm").kv_cache, old.kv_cache) << old.scheme;
  }
}

TEST(Scheme, OneNameTable) {
  for (const std::string& name : scheme_names()) {
    ASSERT_TRUE(parse_scheme(name).has_value()) << name;
    EXPECT_EQ(scheme_name(*parse_scheme(name)), name);
  }
  EXPECT_EQ(parse_scheme("q2"), std::nullopt);
  EXPECT_EQ(scheme_choices_text(), "q4g32, q4cw, q4_1, bf16 or f32");
  EXPECT_EQ(tensor_type_name(TensorType::kQ4G32), std::string("q4g32"));
  EXPECT_EQ(parse_kv_cache("int8"), KvCacheType::kInt8);
  EXPECT_EQ(parse_kv_cache("i8"), std::nullopt);
}

TEST_F(ModelFileTest, CorruptedIndexAndData) {
  const fs::path path = write_sample();
  std::vector<uint8_t> bytes = read(path);
  std::vector<uint8_t> bad = bytes;
  bad[bad.size() - 3] ^= 1;
  EXPECT_NE(error_of(bad).find("checksum"), std::string::npos);
  // A flipped weight byte is not seen by the load-time checks, but by verify_data.
  bad = bytes;
  bad[4096] ^= 0x40;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bad.data()), static_cast<long>(bad.size()));
  auto file = ModelFile::open(path);
  try {
    file->verify_data();
    FAIL() << "verify_data accepted a corrupted tensor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.norm.weight"), std::string::npos) << e.what();
  }
}

TEST_F(ModelFileTest, EntriesThatLie) {
  const std::vector<uint8_t> bytes = read(write_sample());
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
  };
  const Case cases[] = {
      {"needs", [](json& j) { j["tensors"][1]["bytes"] = 31; }},
      {"outside the data area", [](json& j) { j["tensors"][2]["offset"] = 1u << 30; }},
      {"multiple of 4096", [](json& j) { j["tensors"][0]["offset"] = 4100; }},
      {"overlap", [](json& j) { j["tensors"][1]["offset"] = j["tensors"][0]["offset"]; }},
      {"appears twice", [](json& j) { j["tensors"][1]["name"] = "model.norm.weight"; }},
      {"unknown type", [](json& j) { j["tensors"][0]["type"] = "q3"; }},
      {"multiple of 32",
       [](json& j) {
         j["tensors"][2]["shape"] = {9, 48};
       }},
      {"dimension",
       [](json& j) {
         j["tensors"][1]["shape"] = {-3, 5};
       }},
      {"\"crc32c\" is missing", [](json& j) { j["tensors"][0].erase("crc32c"); }},
      {"unknown scheme", [](json& j) { j["scheme"] = "q2"; }},
      {"unknown kv_cache \"int4\" (expected f32 or int8)", [](json& j) { j["kv_cache"] = "int4"; }},
      {"\"kv_cache\" must be a string, got 8", [](json& j) { j["kv_cache"] = 8; }},
      {"is not an object", [](json& j) { j["config"] = 3; }},
      {"must be arrays", [](json& j) { j["blobs"] = "x"; }},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(with_index(bytes, c.edit));
    EXPECT_NE(e.find(c.what), std::string::npos) << "expected \"" << c.what << "\", got: " << e;
  }
}

// The fuzz target's contract, replayed with g++ (and under the sanitizers):
// byte flips, truncations and extensions of a valid file are Errors or valid
// files whose entries lie inside the buffer; never a crash.
TEST_F(ModelFileTest, MutationsAreErrorsNotCrashes) {
  const std::vector<uint8_t> bytes = read(write_sample());
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] { return state = state * 6364136223846793005ull + 1442695040888963407ull, state >> 33; };
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> m = bytes;
    // Mostly the header and index, where the structure is.
    const size_t tail = m.size() - 64;
    for (int flips = 1 + static_cast<int>(next() % 4); flips > 0; --flips) {
      const size_t at = next() % 3 == 0 ? next() % 64 : tail + next() % 64;
      m[at < m.size() ? at : m.size() - 1] ^= static_cast<uint8_t>(1u << (next() % 8));
    }
    if (next() % 5 == 0) m.resize(next() % m.size());
    if (next() % 7 == 0) m.insert(m.end(), 1 + next() % 9, static_cast<uint8_t>(next()));
    try {
      const ModelFileIndex index = parse_model_file(m.data(), m.size(), "m.mllm");
      for (const auto& t : index.tensors) ASSERT_LE(t.offset + t.bytes, m.size());
    } catch (const Error&) {
    }
  }
}

// The fuzzer's seeds (fuzz/format/make_corpus.py, an independent writer in
// Python) are valid files.
TEST(ModelFileCorpus, SeedsParse) {
  int seeds = 0;
  for (const auto& entry : fs::directory_iterator(MOBILELLM_FORMAT_CORPUS)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_NO_THROW(parse_model_file(bytes.data(), bytes.size(), entry.path().string())) << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 2);
}

TEST(Crc32c, KnownVector) {
  // RFC 3720 B.4: 32 bytes of zeros.
  const std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  const std::string digits = "123456789";
  EXPECT_EQ(crc32c(digits.data(), digits.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(digits.data() + 4, 5, crc32c(digits.data(), 4)), 0xE3069283u);
}

}  // namespace
}  // namespace mobilellm::format
