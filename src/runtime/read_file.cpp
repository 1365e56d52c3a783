#include "runtime/read_file.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include "runtime/error.h"

namespace mobilellm {

std::string read_file_bounded(const std::filesystem::path& path, uint64_t max_bytes, const char* what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a directory, not a " + what);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error(path.string() + ": cannot open: " + std::generic_category().message(errno));
  auto too_large = [&] {
    return Error(path.string() + ": larger than " + std::to_string(max_bytes >> 20) + " MiB, too large for a " + what);
  };
  // A regular file's size is known; a device or pipe (/dev/zero) is read up to the limit.
  std::error_code size_ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, size_ec) > max_bytes && !size_ec)
    throw too_large();
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    const size_t n = std::fread(buffer, 1, sizeof buffer, f.get());
    data.append(buffer, n);
    if (data.size() > max_bytes) throw too_large();
    if (n < sizeof buffer) break;
  }
  if (std::ferror(f.get())) throw Error(path.string() + ": read failed: " + std::generic_category().message(errno));
  return data;
}

}  // namespace mobilellm
