// Typed metadata access, opening files from disk, and the dequantizers on
// blocks worked out by hand from ggml-quants.c (the bit-exact comparison on
// random blocks is reference_test.py's, against the gguf package).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "gguf_test_util.h"

namespace mobilellm::io::testing {
namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// One key of every scalar type and a few arrays.
std::vector<uint8_t> all_values() {
  GgufBytes b;
  b.header(0, 16);
  b.str("u8").u32(0).put<uint8_t>(200);
  b.str("i8").u32(1).put<int8_t>(-100);
  b.str("u16").u32(2).put<uint16_t>(60000);
  b.str("i16").u32(3).put<int16_t>(-30000);
  b.str("u32").u32(4).put<uint32_t>(4000000000u);
  b.str("i32").u32(5).put<int32_t>(-2000000000);
  b.str("f32").u32(6).put<float>(0.25f);
  b.str("bool").u32(7).put<uint8_t>(1);
  b.str("string").u32(8).str("hello");
  b.str("u64").u32(10).put<uint64_t>(std::numeric_limits<uint64_t>::max());
  b.str("i64").u32(11).put<int64_t>(std::numeric_limits<int64_t>::min());
  b.str("f64").u32(12).put<double>(1e300);
  b.str("a.i16").u32(9).u32(3).u64(2).put<int16_t>(-1).put<int16_t>(7);
  b.str("a.f64").u32(9).u32(12).u64(2).put<double>(0.1).put<double>(-2.0);
  b.str("a.string").u32(9).u32(8).u64(3).str("").str("x").str("yz");
  b.str("a.bool").u32(9).u32(7).u64(0);
  return b.bytes;
}

TEST(GgufValue, ScalarsThroughTheirAccessors) {
  const auto bytes = all_values();
  const auto f = parse(bytes);
  EXPECT_EQ(f->get_int("u8"), 200);
  EXPECT_EQ(f->get_int("i8"), -100);
  EXPECT_EQ(f->get_int("u16"), 60000);
  EXPECT_EQ(f->get_int("i16"), -30000);
  EXPECT_EQ(f->get_int("u32"), 4000000000);
  EXPECT_EQ(f->get_int("i32"), -2000000000);
  EXPECT_EQ(f->get_int("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->get_float("f32"), 0.25);
  EXPECT_EQ(f->get_float("f64"), 1e300);
  EXPECT_TRUE(f->get_bool("bool"));
  EXPECT_EQ(f->get_string("string"), "hello");
  EXPECT_EQ(f->find("u8")->type(), GgufValueType::kUint8);
  EXPECT_EQ(f->find("nope"), nullptr);
}

TEST(GgufValue, Arrays) {
  const auto bytes = all_values();
  const auto f = parse(bytes);
  EXPECT_EQ(f->get_int_array("a.i16"), (std::vector<int64_t>{-1, 7}));
  EXPECT_EQ(f->get_float_array("a.f64"), (std::vector<float>{0.1f, -2.0f}));
  EXPECT_EQ(f->get_string_array("a.string"), (std::vector<std::string>{"", "x", "yz"}));
  EXPECT_TRUE(f->find("a.bool")->as_bool_array().empty());
  EXPECT_EQ(f->find("a.string")->array_type(), GgufValueType::kString);
  EXPECT_EQ(f->find("a.string")->array_size(), 3u);
  EXPECT_EQ(f->find("a.string")->type_description(), "array of string");
}

TEST(GgufValue, MismatchesNameTheKeyAndBothTypes) {
  const auto bytes = all_values();
  const auto f = parse(bytes);
  EXPECT_EQ(message_of([&] { f->get_string("u32"); }), "m.gguf: key \"u32\" is u32, expected string");
  EXPECT_EQ(message_of([&] { f->get_int("f32"); }), "m.gguf: key \"f32\" is f32, expected an integer");
  EXPECT_EQ(message_of([&] { f->get_float("i8"); }), "m.gguf: key \"i8\" is i8, expected f32 or f64");
  EXPECT_EQ(message_of([&] { f->get_bool("u8"); }), "m.gguf: key \"u8\" is u8, expected bool");
  EXPECT_EQ(message_of([&] { f->get_int_array("a.f64"); }),
            "m.gguf: key \"a.f64\" is array of f64, expected an array of integers");
  EXPECT_EQ(message_of([&] { f->get_float_array("a.i16"); }),
            "m.gguf: key \"a.i16\" is array of i16, expected an array of f32 or f64");
  EXPECT_EQ(message_of([&] { f->get_string_array("string"); }),
            "m.gguf: key \"string\" is string, expected an array of string");
  EXPECT_EQ(message_of([&] { f->find("u8")->array_size(); }), "m.gguf: key \"u8\" is u8, expected an array");
  EXPECT_EQ(message_of([&] { f->get_int("u64"); }),
            "m.gguf: key \"u64\": u64 value 18446744073709551615 does not fit in int64");
  EXPECT_EQ(message_of([&] { f->get_string("missing"); }), "m.gguf: missing key \"missing\"");
}

TEST(GgufValue, OptionalGetters) {
  const auto bytes = all_values();
  const auto f = parse(bytes);
  EXPECT_EQ(f->get_int_or("absent", 5), 5);
  EXPECT_EQ(f->get_int_or("u8", 5), 200);
  EXPECT_EQ(f->get_string_or("absent", "d"), "d");
  EXPECT_EQ(f->get_float_or("absent", 1.5), 1.5);
  EXPECT_FALSE(f->get_bool_or("absent", false));
  EXPECT_EQ(message_of([&] { f->get_string_or("u8", "d"); }), "m.gguf: key \"u8\" is u8, expected string");
}

class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes) {
    std::string pattern = (std::filesystem::temp_directory_path() / "mobilellm-gguf-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(GgufFileOpen, MapsAndValidates) {
  GgufBytes b;
  b.header(1, 1).kv_u32("general.alignment", 64).tensor("w", {32}, 2, 0).data(18, 64);
  TempFile file(b.bytes);
  const auto f = GgufFile::open(file.path());
  EXPECT_EQ(f->path(), file.path());
  const GgufTensor& w = f->tensors().at(0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data) % 64, 0u);  // the mapping is page-aligned
  EXPECT_EQ(w.data[0], 0);
  EXPECT_EQ(w.data[17], 17);
  EXPECT_TRUE(is_gguf_file(file.path()));

  TempFile broken(std::vector<uint8_t>(b.bytes.begin(), b.bytes.end() - 1));
  EXPECT_EQ(message_of([&] { GgufFile::open(broken.path()); }),
            broken.path().string() +
                ": tensor \"w\": data at offset 0 + 18 bytes runs past the end of the file (the data section starts "
                "at byte 128, the file has 145)");
}

TEST(GgufFileOpen, MissingOrForeignFiles) {
  const std::string missing = "/nonexistent/model.gguf";
  EXPECT_EQ(message_of([&] { GgufFile::open(missing); }).substr(0, missing.size() + 13), missing + ": cannot open");
  EXPECT_FALSE(is_gguf_file(missing));
  TempFile text(std::vector<uint8_t>{'{', '}'});
  EXPECT_FALSE(is_gguf_file(text.path()));
  EXPECT_EQ(message_of([&] { GgufFile::open(text.path()); }),
            text.path().string() + ": file is 2 bytes, too short for the GGUF magic");
  EXPECT_FALSE(is_gguf_file(std::filesystem::temp_directory_path()));
}

TEST(GgufTypes, Geometry) {
  EXPECT_STREQ(ggml_type_name(GgmlType::kQ4_1), "Q4_1");
  EXPECT_EQ(ggml_block_elements(GgmlType::kQ4_1), 32);
  EXPECT_EQ(ggml_block_bytes(GgmlType::kQ4_1), 20);
  EXPECT_EQ(ggml_block_elements(GgmlType::kQ6_K), 256);
  EXPECT_EQ(ggml_block_bytes(GgmlType::kQ6_K), 210);
  EXPECT_EQ(ggml_block_elements(GgmlType::kBF16), 1);
  EXPECT_EQ(ggml_block_bytes(GgmlType::kBF16), 2);
  EXPECT_STREQ(ggml_type_id_name(7), "Q5_1");
  EXPECT_EQ(ggml_type_id_name(5), nullptr);
  EXPECT_EQ(ggml_type_id_name(40), nullptr);
  EXPECT_FALSE(supported_ggml_type(7).has_value());
  EXPECT_EQ(supported_ggml_type(14), GgmlType::kQ6_K);
}

// block_q4_0 {d = 0.5 (f16 0x3800), qs[j] = low nibble j % 16, high nibble 15 - j % 16}:
// y[j] = (lo - 8) * d, y[j + 16] = (hi - 8) * d.
TEST(GgufDequantize, Q4_0ByHand) {
  std::vector<uint8_t> block = {0x00, 0x38};
  for (int j = 0; j < 16; ++j) block.push_back(static_cast<uint8_t>(j | (15 - j) << 4));
  float y[32];
  dequantize_row(GgmlType::kQ4_0, block.data(), 32, y);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f) << j;
    EXPECT_EQ(y[j + 16], (7 - j) * 0.5f) << j;
  }
}

// block_q4_1 {d = 2 (0x4000), m = -1 (0xbc00)}: y = q * 2 - 1.
TEST(GgufDequantize, Q4_1ByHand) {
  std::vector<uint8_t> block = {0x00, 0x40, 0x00, 0xbc};
  for (int j = 0; j < 16; ++j) block.push_back(static_cast<uint8_t>(j | 3 << 4));
  float y[32];
  dequantize_row(GgmlType::kQ4_1, block.data(), 32, y);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 2.0f - 1.0f);
    EXPECT_EQ(y[j + 16], 5.0f);
  }
}

TEST(GgufDequantize, RejectsPartialBlocks) {
  std::vector<uint8_t> block(20);
  float y[32];
  EXPECT_EQ(message_of([&] { dequantize_row(GgmlType::kQ4_1, block.data(), 31, y); }),
            "dequantize_row: 31 elements is not a multiple of the Q4_1 block size 32");
}

}  // namespace
}  // namespace mobilellm::io::testing
