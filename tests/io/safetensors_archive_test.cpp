// Opening checkpoints from disk: one file, a directory, a sharded index, and
// the ways each can be broken.
#include <gtest/gtest.h>

#include "safetensors_test_util.h"

namespace mobilellm::io::testing {
namespace {

std::string open_message(const std::filesystem::path& path) {
  try {
    SafetensorsArchive::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void write_tensor_file(const std::filesystem::path& path, const std::vector<std::string>& names) {
  std::vector<uint8_t> bytes(4 * names.size(), 7);
  std::vector<TensorToWrite> tensors;
  for (size_t i = 0; i < names.size(); ++i) tensors.push_back({names[i], "F32", {1}, bytes.data() + 4 * i, 4});
  write_safetensors(path, tensors, {{"format", "pt"}});
}

void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

class ShardedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    write_tensor_file(dir.path() / "model-00001-of-00002.safetensors", {"a", "b"});
    write_tensor_file(dir.path() / "model-00002-of-00002.safetensors", {"c"});
  }
  void write_index(const std::string& weight_map) {
    write_text(index(), R"({"metadata":{"total_size":12},"weight_map":)" + weight_map + "}");
  }
  std::filesystem::path index() const { return dir.path() / "model.safetensors.index.json"; }
  std::string shard1() const { return R"("model-00001-of-00002.safetensors")"; }
  std::string shard2() const { return R"("model-00002-of-00002.safetensors")"; }
  TempDir dir;
};

TEST(SafetensorsArchive, DirectoryWithOneFile) {
  TempDir dir;
  write_tensor_file(dir.path() / "model.safetensors", {"x", "y"});
  auto archive = SafetensorsArchive::open(dir.path());
  EXPECT_EQ(archive.tensors().size(), 2u);
  ASSERT_NE(archive.find("x"), nullptr);
  EXPECT_EQ(archive.find("x")->file, dir.path() / "model.safetensors");
  EXPECT_EQ(archive.find("z"), nullptr);
  EXPECT_EQ(archive.metadata().at("format"), "pt");
}

TEST(SafetensorsArchive, MissingPathAndEmptyDirectory) {
  TempDir dir;
  EXPECT_EQ(open_message(dir.path() / "nope"), (dir.path() / "nope").string() + ": no such file or directory");
  EXPECT_EQ(open_message(dir.path()),
            dir.path().string() + ": neither model.safetensors nor model.safetensors.index.json found");
}

TEST(SafetensorsArchive, EmptyAndTruncatedFilesOnDisk) {
  TempDir dir;
  const auto empty = dir.path() / "empty.safetensors";
  write_bytes(empty, {});
  EXPECT_EQ(open_message(empty), empty.string() + ": file is 0 bytes, too short for the 8-byte header length");

  const auto file = dir.path() / "model.safetensors";
  write_tensor_file(file, {"model.layers.3.self_attn.q_proj.weight"});
  std::filesystem::resize_file(file, std::filesystem::file_size(file) - 1);
  EXPECT_EQ(open_message(dir.path()), file.string() +
                                          ": tensor \"model.layers.3.self_attn.q_proj.weight\": data_offsets [0, 4) "
                                          "end beyond the data area (3 bytes)");
}

TEST_F(ShardedCheckpoint, OpensAllShards) {
  write_index("{\"a\":" + shard1() + ",\"b\":" + shard1() + ",\"c\":" + shard2() + "}");
  for (const auto& path : {dir.path(), index()}) {
    auto archive = SafetensorsArchive::open(path);
    ASSERT_EQ(archive.tensors().size(), 3u);
    EXPECT_EQ(archive.find("c")->file, dir.path() / "model-00002-of-00002.safetensors");
    EXPECT_EQ(archive.metadata().at("format"), "pt");
  }
}

TEST_F(ShardedCheckpoint, SingleFileWinsOverTheIndex) {
  write_index("{\"a\":\"gone.safetensors\"}");
  write_tensor_file(dir.path() / "model.safetensors", {"only"});
  EXPECT_NE(SafetensorsArchive::open(dir.path()).find("only"), nullptr);
}

TEST_F(ShardedCheckpoint, MissingShard) {
  write_index("{\"a\":" + shard1() + ",\"b\":" + shard1() + ",\"c\":\"model-00003.safetensors\"}");
  EXPECT_EQ(open_message(dir.path()), index().string() +
                                          ": shard \"model-00003.safetensors\" (holding tensor \"c\") not found: " +
                                          (dir.path() / "model-00003.safetensors").string());
}

TEST_F(ShardedCheckpoint, TensorMissingFromItsShard) {
  write_index("{\"a\":" + shard1() + ",\"b\":" + shard1() + ",\"c\":" + shard2() + ",\"d\":" + shard2() + "}");
  EXPECT_EQ(open_message(dir.path()),
            index().string() + ": tensor \"d\" is mapped to shard " + shard2() + " but that file does not contain it");
}

TEST_F(ShardedCheckpoint, TensorInTwoShards) {
  write_tensor_file(dir.path() / "model-00002-of-00002.safetensors", {"c", "a"});
  write_index("{\"a\":" + shard1() + ",\"b\":" + shard1() + ",\"c\":" + shard2() + "}");
  EXPECT_EQ(open_message(dir.path()), index().string() + ": tensor \"a\" is in shard " + shard2() +
                                          " but the index maps it to shard " + shard1());
}

TEST_F(ShardedCheckpoint, TensorNotInTheIndex) {
  write_index("{\"a\":" + shard1() + ",\"c\":" + shard2() + "}");
  EXPECT_EQ(open_message(dir.path()), (dir.path() / "model-00001-of-00002.safetensors").string() +
                                          ": tensor \"b\" is not listed in model.safetensors.index.json");
}

TEST_F(ShardedCheckpoint, ShardOutsideTheDirectory) {
  write_index(R"({"a":"../model-00001-of-00002.safetensors"})");
  EXPECT_EQ(open_message(dir.path()), index().string() +
                                          ": shard \"../model-00001-of-00002.safetensors\" for tensor \"a\" is outside "
                                          "the checkpoint directory");
  write_index(R"({"a":"/etc/passwd"})");
  EXPECT_EQ(open_message(dir.path()),
            index().string() + ": shard \"/etc/passwd\" for tensor \"a\" is outside the checkpoint directory");
}

TEST_F(ShardedCheckpoint, MalformedIndex) {
  write_text(index(), "{\"weight_map\": {");
  EXPECT_EQ(open_message(dir.path()),
            index().string() +
                ": not valid JSON: at byte 17: parse error at line 1, column 17: syntax error while "
                "parsing object key - unexpected end of input; expected string literal");
  write_text(index(), R"({"metadata":{}})");
  EXPECT_EQ(open_message(dir.path()), index().string() + ": no \"weight_map\" object");
  write_index(R"({"a":1})");
  EXPECT_EQ(open_message(dir.path()), index().string() + ": weight_map entry for tensor \"a\" is not a file name");
}

TEST(MappedFile, MapsAndMoves) {
  TempDir dir;
  write_bytes(dir.path() / "f", {1, 2, 3});
  MappedFile a(dir.path() / "f");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.data()[2], 3);
  MappedFile b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data()[0], 1);
  a = std::move(b);
  EXPECT_EQ(a.path(), dir.path() / "f");
  EXPECT_EQ(a.size(), 3u);

  write_bytes(dir.path() / "empty", {});
  MappedFile empty(dir.path() / "empty");
  EXPECT_EQ(empty.size(), 0u);
}

TEST(MappedFile, ErrorsNameThePathAndTheReason) {
  TempDir dir;
  try {
    MappedFile f(dir.path() / "missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "missing").string() + ": cannot open: No such file or directory");
  }
  try {
    MappedFile f(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.path().string() + ": not a regular file");
  }
}

}  // namespace
}  // namespace mobilellm::io::testing
