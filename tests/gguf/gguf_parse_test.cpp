// Every kind of malformed GGUF header gets its own message naming the file
// and, where there is one, the key or tensor.
#include <gtest/gtest.h>

#include <limits>

#include "gguf_test_util.h"

namespace mobilellm::io::testing {
namespace {

constexpr uint32_t kF32 = 0, kQ4_1 = 3;

// One u32 key and one F32 tensor of 4 elements: 24 + 17 + 33 = 74 header bytes,
// data from byte 96, 112 bytes in all.
GgufBytes minimal() {
  GgufBytes b;
  b.header(1, 1).kv_u32("k", 7).tensor("w", {4}, kF32, 0).data(16);
  return b;
}

std::string starts(const std::string& message, size_t n) { return message.substr(0, n); }

TEST(GgufParse, AcceptsAWellFormedFile) {
  GgufBytes b;
  b.header(2, 2, 2).kv_string("general.architecture", "llama").kv_u32("general.alignment", 64);
  b.tensor("a", {64, 2}, kQ4_1, 0).tensor("b.weight", {3}, kF32, 192).data(192 + 12, 64);
  const auto f = parse(b.bytes);
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset(), 192u);  // the infos end at 183
  ASSERT_EQ(f->tensors().size(), 2u);
  const GgufTensor& a = f->tensors()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.ne, (std::vector<int64_t>{64, 2}));
  EXPECT_EQ(a.type, GgmlType::kQ4_1);
  EXPECT_EQ(a.elements(), 128);
  EXPECT_EQ(a.nbytes, 80u);  // 4 blocks of 20 bytes
  EXPECT_EQ(a.data, b.bytes.data() + 192);
  EXPECT_EQ(f->find_tensor("b.weight")->data, b.bytes.data() + 384);
  EXPECT_EQ(f->find_tensor("b.weight")->offset, 192u);
  EXPECT_EQ(f->find_tensor("c"), nullptr);
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[1].key(), "general.alignment");
}

TEST(GgufParse, NoTensorsNeedsNoDataSection) {
  GgufBytes b;
  b.header(0, 1).kv_u32("k", 1);
  EXPECT_EQ(parse_message(b.bytes), "");
  EXPECT_TRUE(parse(b.bytes)->tensors().empty());
}

TEST(GgufParse, TooShortOrNotGguf) {
  EXPECT_EQ(parse_message({}), "m.gguf: file is 0 bytes, too short for the GGUF magic");
  EXPECT_EQ(parse_message({'G', 'G', 'U'}), "m.gguf: file is 3 bytes, too short for the GGUF magic");
  EXPECT_EQ(parse_message({'G', 'G', 'M', 'L', 0, 0, 0, 0}),
            "m.gguf: not a GGUF file: it starts with 'GGML' (47 47 4d 4c), not 'GGUF'");
  EXPECT_EQ(parse_message({0x7f, 'E', 'L', 'F'}),
            "m.gguf: not a GGUF file: it starts with '?ELF' (7f 45 4c 46), not 'GGUF'");
  EXPECT_EQ(parse_message({'G', 'G', 'U', 'F', 3, 0}),
            "m.gguf: file ends inside the version at offset 4: it needs 4 bytes, 2 are left");
}

TEST(GgufParse, Versions) {
  for (uint32_t v : {2u, 3u}) {
    GgufBytes b;
    b.header(0, 0, v);
    EXPECT_EQ(parse_message(b.bytes), "") << v;
  }
  auto with_version = [](uint32_t v) {
    GgufBytes b;
    b.header(0, 0, v);
    return parse_message(b.bytes);
  };
  EXPECT_EQ(with_version(1), "m.gguf: GGUF version 1 (32-bit counts) is not supported; versions 2 and 3 are");
  EXPECT_EQ(with_version(0), "m.gguf: unsupported GGUF version 0; versions 2 and 3 are supported");
  EXPECT_EQ(with_version(4), "m.gguf: unsupported GGUF version 4; versions 2 and 3 are supported");
  EXPECT_EQ(with_version(0x03000000),
            "m.gguf: GGUF version field 50331648 looks byte-swapped: big-endian GGUF files are not supported");
}

TEST(GgufParse, LyingCounts) {
  GgufBytes b;
  b.header(-1, 0);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor count -1 is negative");
  b = {};
  b.header(0, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: metadata count -9223372036854775808 is negative");
  b = {};
  b.header(1'000'000'000'000, 0);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: tensor count 1000000000000 cannot fit: each takes at least 32 bytes and only 0 bytes follow");
  b = minimal();
  b.bytes[16] = 9;  // 9 metadata entries; 88 bytes follow the counts
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: metadata count 9 cannot fit: each takes at least 13 bytes and only 88 bytes follow");
  b = minimal();
  b.bytes[8] = 2;  // 2 tensor infos (64 bytes) and 2 entries (26 bytes) fit one by one, not together
  b.bytes[16] = 2;
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: 2 metadata entries and 2 tensor infos take at least 90 bytes, but only 88 bytes follow");
}

TEST(GgufParse, HugeAndTruncatedStrings) {
  GgufBytes b;
  b.header(0, 1).u64(std::numeric_limits<uint64_t>::max()).u32(0).bytes.push_back(0);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: the length of the key of metadata entry 0 is 18446744073709551615 bytes, but only 5 bytes are "
            "left in the file");
  b = {};
  b.header(0, 1).str("s").u32(8).u64(1'000'000).raw({'a', 'b'});
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: the length of the value of key \"s\" is 1000000 bytes, but only 2 bytes are left in the file");
  b = {};
  b.header(1, 0).u64(1ull << 40).raw(std::vector<uint8_t>(40, 'x'));
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: the length of the name of tensor info 0 is 1099511627776 bytes, but only 40 bytes are left in "
            "the file");
}

TEST(GgufParse, Keys) {
  GgufBytes b;
  b.header(0, 1).kv_u32("", 1);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: metadata entry 0 has an empty key");
  b = {};
  b.header(0, 3).kv_u32("a", 1).kv_u32("b", 2).kv_string("a", "x");
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: duplicate key \"a\" (metadata entries 0 and 2)");
  // Bytes of a hostile key are escaped and cut in the message.
  b = {};
  b.header(0, 2).kv_u32(std::string("q\"\xff\n") + std::string(200, 'z'), 1).kv_u32("a", 1);
  b.bytes.resize(b.bytes.size() - 1);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: file ends inside the value of key \"a\" at offset " +
                                        std::to_string(b.bytes.size() - 3) + ": it needs 4 bytes, 3 are left");
  b = {};
  b.header(0, 1).str(std::string("q\"\xff\n") + std::string(200, 'z')).u32(99);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: key \"q\\\"\\xff\\x0a" + std::string(92, 'z') + "...\": unknown value type 99 (known: 0 to 12)");
}

TEST(GgufParse, ValueTypes) {
  GgufBytes b;
  b.header(0, 1).str("k").u32(13).u32(0);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: key \"k\": unknown value type 13 (known: 0 to 12)");
  b = {};
  b.header(0, 1).str("k").u32(9).u32(0xffffffff).u64(0);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: key \"k\": unknown value type 4294967295 (known: 0 to 12)");
  b = {};
  b.header(0, 1).str("k").u32(9).u32(9).u64(1).u32(4).u64(1).u32(0);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: key \"k\": arrays of arrays are not supported (llama.cpp rejects them too)");
  b = {};
  b.header(0, 1).str("k").u32(7).raw({2});
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: key \"k\": bool is 2, not 0 or 1");
  b = {};
  b.header(0, 1).str("k").u32(9).u32(7).u64(3).raw({1, 0, 255});
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: key \"k\": bool element 2 is 255, not 0 or 1");
}

TEST(GgufParse, LyingArrayLengths) {
  GgufBytes b;
  b.header(0, 1).str("k").u32(9).u32(4).u64(1'000'000'000).u32(1).u32(2);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: key \"k\": array of 1000000000 u32 cannot fit: each takes at least 4 bytes and only 8 bytes are "
            "left");
  b = {};
  b.header(0, 1).str("k").u32(9).u32(8).u64(std::numeric_limits<uint64_t>::max()).str("a");
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: key \"k\": array of 18446744073709551615 string cannot fit: each takes at least 8 bytes and "
            "only 9 bytes are left");
  b = {};
  b.header(0, 1).str("k").u32(9).u32(8).u64(2).str("a").u64(5).raw({'b'});
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: the length of string 1 of key \"k\" is 5 bytes, but only 1 bytes are left in the file");
  b = {};
  b.header(0, 1).str("k").u32(9).u32(11).u64(2).u64(1).u32(0);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: key \"k\": array of 2 i64 cannot fit: each takes at least 8 bytes and only 12 bytes are left");
}

TEST(GgufParse, Alignment) {
  GgufBytes b;
  b.header(0, 1).str("general.alignment").u32(5).i64(64);  // i32 = 5: a 4-byte value, 4 bytes left over
  b.bytes.resize(b.bytes.size() - 4);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: general.alignment is i32; it must be u32");
  for (uint32_t a : {0u, 3u, 48u}) {
    b = {};
    b.header(0, 1).kv_u32("general.alignment", a);
    EXPECT_EQ(parse_message(b.bytes), "m.gguf: general.alignment " + std::to_string(a) + " is not a power of two");
  }
  b = {};
  b.header(0, 1).kv_u32("general.alignment", 1);
  EXPECT_EQ(parse_message(b.bytes), "");
}

TEST(GgufParse, TensorNamesAndDimensions) {
  GgufBytes b;
  b.header(1, 0).tensor("", {4}, kF32, 0).data(16);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor info 0 has an empty name");
  b = {};
  b.header(2, 0).tensor("w", {4}, kF32, 0).tensor("w", {4}, kF32, 32).data(48);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: duplicate tensor name \"w\" (tensor infos 0 and 1)");
  b = {};
  b.header(1, 0).tensor("w", {}, kF32, 0).u64(0).data(16);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor \"w\": 0 dimensions; GGUF tensors have 1 to 4");
  b = {};
  b.header(1, 0).tensor("w", {1, 1, 1, 1, 1}, kF32, 0).data(16);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor \"w\": 5 dimensions; GGUF tensors have 1 to 4");
  b = {};
  b.header(1, 0).tensor("w", {4, 0}, kF32, 0).data(16);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor \"w\": dimension 1 is 0, not >= 1");
  b = {};
  b.header(1, 0).tensor("w", {-4}, kF32, 0).data(16);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor \"w\": dimension 0 is -4, not >= 1");
  b = {};
  b.header(1, 0).tensor("w", {1ll << 32, 1ll << 31, 2}, kF32, 0).data(16);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: tensor \"w\": shape [4294967296, 2147483648, 2] has more than 2^63 - 1 elements");
  b = {};
  b.header(1, 0).tensor("w", {1ll << 31, 1ll << 31}, kF32, 0).data(16);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: tensor \"w\": shape [2147483648, 2147483648] of F32 takes more than 2^64 bytes");
}

TEST(GgufParse, TensorTypes) {
  auto with_type = [](uint32_t type, int64_t ne0) {
    GgufBytes b;
    b.header(1, 0).tensor("w", {ne0}, type, 0).data(1024);
    return parse_message(b.bytes);
  };
  EXPECT_EQ(with_type(99, 32), "m.gguf: tensor \"w\": unknown ggml type 99");
  EXPECT_EQ(with_type(4, 32), "m.gguf: tensor \"w\": unknown ggml type 4");  // Q4_2, removed from ggml
  EXPECT_EQ(with_type(6, 32),
            "m.gguf: tensor \"w\": ggml type 6 (Q5_0) is not supported; supported: F32, F16, BF16, Q8_0, Q4_0, "
            "Q4_1, Q4_K, Q5_K, Q6_K");
  EXPECT_EQ(with_type(39, 32),
            "m.gguf: tensor \"w\": ggml type 39 (MXFP4) is not supported; supported: F32, F16, BF16, Q8_0, Q4_0, "
            "Q4_1, Q4_K, Q5_K, Q6_K");
  EXPECT_EQ(with_type(kQ4_1, 33),
            "m.gguf: tensor \"w\": rows of 33 elements are not a multiple of the Q4_1 block size 32");
  EXPECT_EQ(with_type(12, 128),
            "m.gguf: tensor \"w\": rows of 128 elements are not a multiple of the Q4_K block size 256");
  for (uint32_t t : {0u, 1u, 2u, 3u, 8u, 12u, 13u, 14u, 30u}) EXPECT_EQ(with_type(t, 256), "") << t;
}

TEST(GgufParse, TensorOffsets) {
  GgufBytes b;
  b.header(1, 0).tensor("w", {4}, kF32, 8).data(64);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensor \"w\": data offset 8 is not a multiple of the alignment 32");
  b = {};
  b.header(1, 0).tensor("w", {4}, kF32, 0).data(15);  // header 57 bytes, data from 64
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: tensor \"w\": data at offset 0 + 16 bytes runs past the end of the file (the data section starts "
            "at byte 64, the file has 79)");
  b = {};
  b.header(1, 0).tensor("w", {4}, kF32, 0xffffffffffffffe0ull).data(64);
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: tensor \"w\": data at offset 18446744073709551584 + 16 bytes runs past the end of the file (the "
            "data section starts at byte 64, the file has 128)");
  b = {};
  b.header(1, 0).tensor("w", {4}, kF32, 0);  // no data section at all: the padding is missing too
  EXPECT_EQ(parse_message(b.bytes),
            "m.gguf: tensor \"w\": data at offset 0 + 16 bytes runs past the end of the file (the data section starts "
            "at byte 64, the file has 57)");
  b = {};
  b.header(3, 0).tensor("a", {64}, kF32, 0).tensor("b", {4}, kF32, 256).tensor("c", {4}, kF32, 224).data(512);
  EXPECT_EQ(parse_message(b.bytes), "m.gguf: tensors \"a\" and \"c\" overlap: data bytes [0, 256) and [224, 240)");
}

// Every proper prefix of a valid file is rejected with a message about the
// missing bytes, never accepted and never a crash.
TEST(GgufParse, TruncatedAtEveryOffset) {
  GgufBytes b;
  b.header(2, 3).kv_string("general.architecture", "llama").kv_u32("general.alignment", 32);
  b.str("tokens").u32(9).u32(8).u64(2).str("a").str("bc");
  b.tensor("a", {32, 2}, kQ4_1, 0).tensor("b", {256}, 14, 64).data(64 + 210);
  ASSERT_EQ(parse_message(b.bytes), "");
  for (size_t n = 0; n < b.bytes.size(); ++n) {
    const std::string m = parse_message(std::vector<uint8_t>(b.bytes.begin(), b.bytes.begin() + n));
    const bool expected =
        m.starts_with("m.gguf: file ends inside ") || m.find("too short") != std::string::npos ||
        m.find("runs past the end of the file") != std::string::npos || m.find(" cannot fit: ") != std::string::npos ||
        m.find("bytes are left in the file") != std::string::npos || m.find("but only") != std::string::npos;
    EXPECT_TRUE(expected) << "prefix of " << n << " bytes: " << (m.empty() ? "accepted" : m);
  }
}

TEST(GgufParse, MessagesNameTheFile) { EXPECT_EQ(starts(parse_message({}, "dir/model.gguf"), 16), "dir/model.gguf: "); }

}  // namespace
}  // namespace mobilellm::io::testing
