// write_safetensors against our own reader: bytes, shapes and metadata come
// back exactly; the layout follows the official writer (padded header, widest
// dtypes first); bad input is refused without leaving a file behind.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "safetensors_test_util.h"

namespace mobilellm::io::testing {
namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 31 * i);
  return v;
}

uint64_t header_length(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  uint8_t b[8];
  in.read(reinterpret_cast<char*>(b), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | b[i];
  return n;
}

TEST(SafetensorsWrite, RoundTrip) {
  TempDir dir;
  const auto file = dir.path() / "t.safetensors";
  // Odd sizes on purpose: written in this order, the F32 and I64 would be misaligned.
  auto bf16 = pattern(3 * 2, 1), f32 = pattern(5 * 4, 2), i8 = pattern(7, 3), i64 = pattern(2 * 8, 4),
       f4 = pattern(3, 5), scalar = pattern(4, 6);
  std::vector<TensorToWrite> tensors = {
      {"model.norm.weight", "BF16", {3}, bf16.data(), bf16.size()},
      {"layers.0.w", "F32", {5, 1}, f32.data(), f32.size()},
      {"q", "I8", {7}, i8.data(), i8.size()},
      {"ids", "I64", {2}, i64.data(), i64.size()},
      {"packed", "F4", {2, 3}, f4.data(), f4.size()},
      {"s", "F32", {}, scalar.data(), scalar.size()},
      {"empty", "F16", {0, 9}, nullptr, 0},
  };
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"writer", "mobilellm"}};
  write_safetensors(file, tensors, meta);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".partial-" + std::to_string(getpid())));

  const uint64_t header_len = header_length(file);
  EXPECT_EQ(header_len % 8, 0u) << "data area must start 8-byte aligned";

  auto archive = SafetensorsArchive::open(file);
  EXPECT_EQ(archive.metadata(), meta);
  ASSERT_EQ(archive.tensors().size(), tensors.size());
  for (const auto& t : tensors) {
    const TensorEntry* e = archive.find(t.name);
    ASSERT_NE(e, nullptr) << t.name;
    EXPECT_EQ(e->dtype, t.dtype);
    EXPECT_EQ(e->shape, t.shape);
    ASSERT_EQ(e->nbytes, t.nbytes);
    if (t.nbytes > 0) {
      EXPECT_EQ(std::memcmp(e->data, t.data, t.nbytes), 0) << t.name;
    }
    EXPECT_EQ(e->file, file);
  }
  // Widest dtype first: every tensor starts at a multiple of its element size.
  const uint8_t* area = archive.find("ids")->data;
  for (const auto& [name, e] : archive.tensors()) {
    const size_t offset = static_cast<size_t>(e.data - area);
    const size_t width = e.dtype == "I64" ? 8 : e.dtype == "F32" ? 4 : e.dtype == "BF16" || e.dtype == "F16" ? 2 : 1;
    EXPECT_EQ(offset % width, 0u) << name << " at offset " << offset;
    EXPECT_LE(area, e.data) << name;
  }
  // F32 tensors keep the caller's order among themselves.
  EXPECT_LT(archive.find("layers.0.w")->data, archive.find("s")->data);
}

TEST(SafetensorsWrite, EmptyFileHasAPaddedHeader) {
  TempDir dir;
  write_safetensors(dir.path() / "e.safetensors", {});
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "e.safetensors"), 16u);  // 8 + "{}" padded to 8
  EXPECT_TRUE(SafetensorsArchive::open(dir.path() / "e.safetensors").tensors().empty());
}

TEST(SafetensorsWrite, RefusesInconsistentTensors) {
  TempDir dir;
  const auto file = dir.path() / "bad.safetensors";
  auto bytes = pattern(8, 0);
  auto message = [&](std::vector<TensorToWrite> tensors) -> std::string {
    try {
      write_safetensors(file, tensors);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string prefix = file.string() + ": cannot write tensor ";
  EXPECT_EQ(message({{"w", "F32", {3}, bytes.data(), 8}}), prefix + "\"w\": 8 bytes given for shape [3] of F32");
  EXPECT_EQ(message({{"w", "Q8", {8}, bytes.data(), 8}}), prefix + "\"w\": unknown dtype \"Q8\"");
  EXPECT_EQ(message({{"w", "U8", {-8}, bytes.data(), 8}}), prefix + "\"w\": negative dimension in shape [-8]");
  EXPECT_EQ(message({{"w", "U8", {4}, bytes.data(), 4}, {"w", "U8", {4}, bytes.data(), 4}}),
            prefix + "\"w\": the name is reserved or repeated");
  EXPECT_EQ(message({{"__metadata__", "U8", {4}, bytes.data(), 4}}),
            prefix + "\"__metadata__\": the name is reserved or repeated");
  EXPECT_EQ(message({{"w", "U8", {4}, nullptr, 4}}), prefix + "\"w\": no data");
  EXPECT_EQ(message({{"w\xff", "U8", {4}, bytes.data(), 4}}),
            file.string() + ": cannot write: a tensor name or metadata string is not valid UTF-8");
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".partial-" + std::to_string(getpid())));
}

TEST(SafetensorsWrite, UnwritableDestinationNamesThePath) {
  auto bytes = pattern(4, 0);
  try {
    write_safetensors("/nonexistent-dir/x.safetensors", {{"w", "U8", {4}, bytes.data(), 4}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent-dir/x.safetensors.partial-" + std::to_string(getpid()) +
                                         ": cannot create: No such file or directory");
  }
}

}  // namespace
}  // namespace mobilellm::io::testing
