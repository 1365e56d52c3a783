// read_file_bounded: whole files come back exactly; a file, device or pipe
// holding more than the limit is refused after reading at most the limit;
// paths that cannot be read are named.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/error.h"
#include "runtime/read_file.h"

namespace mobilellm {
namespace {

std::string error_of(const std::filesystem::path& path, uint64_t max_bytes) {
  try {
    read_file_bounded(path, max_bytes, "test file");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ReadFileBounded, ReadsAWholeFile) {
  const auto path = std::filesystem::temp_directory_path() / ("read_file_test_" + std::to_string(::getpid()));
  std::string bytes(200000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(read_file_bounded(path, bytes.size(), "test file"), bytes);
  EXPECT_EQ(error_of(path, bytes.size() - 1), path.string() + ": larger than 0 MiB, too large for a test file");
  std::filesystem::remove(path);
}

TEST(ReadFileBounded, AnEndlessDeviceIsRefused) {
  EXPECT_EQ(error_of("/dev/zero", 1 << 20), "/dev/zero: larger than 1 MiB, too large for a test file");
}

TEST(ReadFileBounded, UnreadablePathsAreNamed) {
  EXPECT_EQ(error_of("/nonexistent/x.json", 100), "/nonexistent/x.json: cannot open: No such file or directory");
  EXPECT_EQ(error_of("/", 100), "/: is a directory, not a test file");
}

}  // namespace
}  // namespace mobilellm
