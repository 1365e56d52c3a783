#pragma once
// Files the user asked for are written under a temporary name in their target
// folder ("<name>.partial-<pid>"), flushed to disk and renamed into place when
// complete: a reader sees the old file or the whole new one, never a part.
// The temporary is removed when the writer is dropped unfinished (an error),
// on SIGINT and SIGTERM, and, after a SIGKILL, by the next writer of the same
// file once its process is gone.
#include <cstdio>
#include <filesystem>
#include <vector>

namespace mobilellm::io {

// Throws Error when `output` exists and `overwrite` is false (the message
// names --force), or when it is one of `inputs` (the same file under any name:
// never overwritten, even with --force).
void check_output_path(const std::filesystem::path& output, bool overwrite,
                       const std::vector<std::filesystem::path>& inputs = {});

class AtomicOutput {
 public:
  explicit AtomicOutput(std::filesystem::path path);
  ~AtomicOutput();  // removes the temporary unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  std::FILE* file() const { return file_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  // Writes all of `data` or throws Error naming the file.
  void write(const void* data, size_t bytes);
  // Flushes, syncs and renames the temporary to the final name.
  void commit();

 private:
  [[noreturn]] void fail(const char* what) const;

  std::filesystem::path path_, temp_;
  std::FILE* file_ = nullptr;
  int slot_ = -1;  // in the table the signal handler removes temporaries from
  bool committed_ = false;
};

// Writes `bytes` to `path` through an AtomicOutput.
void write_file_atomically(const std::filesystem::path& path, const void* data, size_t bytes);

}  // namespace mobilellm::io
