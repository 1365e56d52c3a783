// Every kind of malformed header gets its own message naming the file and,
// where there is one, the tensor.
#include <gtest/gtest.h>

#include "safetensors_test_util.h"

namespace mobilellm::io::testing {
namespace {

std::string one_tensor(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"w":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}";
}

TEST(SafetensorsParse, AcceptsAWellFormedFile) {
  auto bytes = make_file(R"({"__metadata__":{"format":"pt"},)"
                         R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                         R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[24,30]},)"
                         R"("s":{"dtype":"I8","shape":[],"data_offsets":[30,31]},)"
                         R"("e":{"dtype":"F16","shape":[0,7],"data_offsets":[31,31]}})",
                         31);
  std::map<std::string, TensorEntry> out;
  std::map<std::string, std::string> meta;
  parse_safetensors(bytes.data(), bytes.size(), "m.safetensors", out, &meta);
  ASSERT_EQ(out.size(), 4u);
  const size_t data_start = bytes.size() - 31;
  const TensorEntry& a = out.at("a");
  EXPECT_EQ(a.dtype, "F32");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.numel(), 6);
  EXPECT_EQ(a.nbytes, 24u);
  EXPECT_EQ(a.data, bytes.data() + data_start);
  EXPECT_EQ(a.file, "m.safetensors");
  EXPECT_EQ(out.at("b").data, bytes.data() + data_start + 24);
  EXPECT_EQ(out.at("s").numel(), 1);
  EXPECT_EQ(out.at("e").numel(), 0);
  EXPECT_EQ(out.at("e").nbytes, 0u);
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(SafetensorsParse, FileShorterThanTheLengthField) {
  EXPECT_EQ(parse_message({1, 2, 3}), "m.safetensors: file is 3 bytes, too short for the 8-byte header length");
  EXPECT_EQ(parse_message({}), "m.safetensors: file is 0 bytes, too short for the 8-byte header length");
}

TEST(SafetensorsParse, HeaderLengthPastTheEnd) {
  auto bytes = make_file("{}", 0);
  bytes[0] = 200;
  EXPECT_EQ(parse_message(bytes), "m.safetensors: header length 200 runs past the end of the file (10 bytes)");
}

TEST(SafetensorsParse, AbsurdHeaderLength) {
  auto bytes = make_file("{}", 0);
  for (int i = 0; i < 8; ++i) bytes[i] = 0xff;
  EXPECT_EQ(parse_message(bytes),
            "m.safetensors: header length 18446744073709551615 exceeds the limit of 100000000 bytes");
}

TEST(SafetensorsParse, InvalidJsonNamesThePosition) {
  EXPECT_EQ(parse_message(make_file(R"({"w": [1,})", 0)),
            "m.safetensors: header is not valid JSON: at byte 10: parse error at line 1, column 10: syntax error "
            "while parsing value - unexpected '}'; expected '[', '{', or a literal");
  EXPECT_EQ(parse_message(make_file(R"({"w":1e999})", 0)),
            "m.safetensors: header is not valid JSON: number overflow parsing '1e999'");
  // A byte that is not UTF-8 inside a name.
  EXPECT_NE(parse_message(make_file("{\"w\xff\":{}}", 0)).find("m.safetensors: header is not valid JSON: at byte 4"),
            std::string::npos);
}

TEST(SafetensorsParse, HeaderMustBeAnObject) {
  EXPECT_EQ(parse_message(make_file("[1, 2]", 0)), "m.safetensors: header is not a JSON object (it is array)");
}

TEST(SafetensorsParse, EntryMustBeAnObject) {
  EXPECT_EQ(parse_message(make_file(R"({"w":[1]})", 0)),
            "m.safetensors: tensor \"w\": header entry is not an object (it is array)");
}

TEST(SafetensorsParse, MissingFields) {
  EXPECT_EQ(parse_message(make_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4)),
            "m.safetensors: tensor \"w\": missing \"dtype\"");
  EXPECT_EQ(parse_message(make_file(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4)),
            "m.safetensors: tensor \"w\": missing \"shape\"");
  EXPECT_EQ(parse_message(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", 4)),
            "m.safetensors: tensor \"w\": missing \"data_offsets\"");
}

TEST(SafetensorsParse, FieldsOfTheWrongType) {
  EXPECT_EQ(parse_message(make_file(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4)),
            "m.safetensors: tensor \"w\": \"dtype\" is not a string");
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "4", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": \"shape\" is not an array (it is number)");
}

TEST(SafetensorsParse, UnknownDtype) {
  EXPECT_EQ(parse_message(make_file(one_tensor("Q4_K", "[1]", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": unknown dtype \"Q4_K\"");
}

TEST(SafetensorsParse, BadShapeDims) {
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[2,-3]", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": shape dimension 1 is negative (-3)");
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[1.5]", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": shape dimension 0 is not an integer");
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[\"1\"]", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": shape dimension 0 is not an integer (it is string)");
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[9223372036854775808]", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": shape dimension 0 is too large (9223372036854775808)");
}

TEST(SafetensorsParse, ElementCountOverflow) {
  EXPECT_EQ(parse_message(make_file(one_tensor("U8", "[4294967296,4294967296]", "[0,4]"), 4)),
            "m.safetensors: tensor \"w\": shape [4294967296, 4294967296] of U8 has more elements than fit in 64 bits");
  // A zero after an overflowing prefix is still rejected, as the official reader does.
  EXPECT_EQ(parse_message(make_file(one_tensor("U8", "[4294967296,4294967296,0]", "[0,0]"), 0)),
            "m.safetensors: tensor \"w\": shape [4294967296, 4294967296, 0] of U8 has more elements than fit in 64 "
            "bits");
  EXPECT_EQ(parse_message(make_file(one_tensor("F64", "[4611686018427387904]", "[0,8]"), 8)),
            "m.safetensors: tensor \"w\": shape [4611686018427387904] of F64 needs more bytes than fit in 64 bits");
}

TEST(SafetensorsParse, SubByteDtypes) {
  EXPECT_EQ(parse_message(make_file(one_tensor("F4", "[2,3]", "[0,3]"), 3)), "");
  EXPECT_EQ(parse_message(make_file(one_tensor("F6_E2M3", "[4]", "[0,3]"), 3)), "");
  EXPECT_EQ(parse_message(make_file(one_tensor("F4", "[3]", "[0,2]"), 2)),
            "m.safetensors: tensor \"w\": shape [3] of F4 does not fill whole bytes");
}

TEST(SafetensorsParse, MalformedOffsets) {
  const std::string want = "m.safetensors: tensor \"w\": \"data_offsets\" is not [begin, end] of non-negative integers";
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[1]", "[0]"), 4)), want);
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[1]", "[0,4,8]"), 8)), want);
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[1]", "[-4,0]"), 4)), want);
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[1]", "[0,4.0]"), 4)), want);
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[1]", "{\"a\":0}"), 4)), want);
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[0]", "[8,4]"), 8)),
            "m.safetensors: tensor \"w\": data_offsets [8, 4) has begin after end");
}

TEST(SafetensorsParse, OffsetsOutOfRange) {
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[4]", "[4,20]"), 16)),
            "m.safetensors: tensor \"w\": data_offsets [4, 20) end beyond the data area (16 bytes)");
  EXPECT_EQ(parse_message(make_file(one_tensor("U8", "[1]", "[18446744073709551614,18446744073709551615]"), 16)),
            "m.safetensors: tensor \"w\": data_offsets [18446744073709551614, 18446744073709551615) end beyond the "
            "data area (16 bytes)");
}

TEST(SafetensorsParse, WrongByteSizeForShape) {
  EXPECT_EQ(parse_message(make_file(one_tensor("F32", "[2,3]", "[0,8]"), 8)),
            "m.safetensors: tensor \"w\": data_offsets [0, 8) hold 8 bytes but shape [2, 3] of F32 needs 24");
}

TEST(SafetensorsParse, TruncatedFile) {
  auto bytes = make_file(one_tensor("BF16", "[8]", "[0,16]"), 16);
  bytes.resize(bytes.size() - 5);
  EXPECT_EQ(parse_message(bytes),
            "m.safetensors: tensor \"w\": data_offsets [0, 16) end beyond the data area (11 bytes)");
}

TEST(SafetensorsParse, OverlappingTensors) {
  auto bytes = make_file(R"({"b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]},)"
                         R"("a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})",
                         10);
  EXPECT_EQ(parse_message(bytes), "m.safetensors: tensor \"b\": data_offsets [6, 10) overlap tensor \"a\" [0, 8)");
  // Empty tensors occupy no bytes, so they overlap nothing.
  EXPECT_EQ(parse_message(make_file(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
                                    R"("e":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}})",
                                    8)),
            "");
}

TEST(SafetensorsParse, NamesAreUnique) {
  EXPECT_EQ(parse_message(make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                    R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                    2)),
            "m.safetensors: tensor \"w\": appears twice in the header");
  EXPECT_EQ(parse_message(make_file(R"({"w":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}})", 1)),
            "m.safetensors: header entry \"w\" has the key \"dtype\" twice");
}

TEST(SafetensorsParse, DuplicateAcrossFilesAndAtomicity) {
  auto first = make_file(one_tensor("U8", "[1]", "[0,1]"), 1);
  auto second = make_file(R"({"v":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                          2);
  std::map<std::string, TensorEntry> out;
  parse_safetensors(first.data(), first.size(), "a.safetensors", out, nullptr);
  try {
    parse_safetensors(second.data(), second.size(), "b.safetensors", out, nullptr);
    FAIL() << "accepted a tensor named in two files";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "b.safetensors: tensor \"w\": also in a.safetensors");
  }
  // The rejected file added nothing.
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count("v"), 0u);
}

TEST(SafetensorsParse, Metadata) {
  EXPECT_EQ(parse_message(make_file(R"({"__metadata__":{"k":1}})", 0)),
            "m.safetensors: __metadata__ value of \"k\" is not a string");
  EXPECT_EQ(parse_message(make_file(R"({"__metadata__":[]})", 0)),
            "m.safetensors: __metadata__ is not an object (it is array)");
  EXPECT_EQ(parse_message(make_file(R"({"__metadata__":null})", 0)), "");
}

TEST(SafetensorsParse, HostileNamesAreEscapedInMessages) {
  EXPECT_EQ(parse_message(make_file(R"({"a\"b\n":{}})", 0)), "m.safetensors: tensor \"a\\\"b\\n\": missing \"dtype\"");
}

}  // namespace
}  // namespace mobilellm::io::testing
