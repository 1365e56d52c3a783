#pragma once
// The cache that huggingface_hub writes and reads (file_download.py), so a
// model fetched by one tool is found by the other:
//   <cache>/models--ORG--NAME/blobs/<etag>                 file contents, named by ETag
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>    -> ../../blobs/<etag> (relative symlink)
//   <cache>/models--ORG--NAME/refs/<revision>              the commit a branch or tag last resolved to
//   <cache>/.locks/models--ORG--NAME/<etag>.lock           flock(2) held while a blob is written
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

#include "runtime/error.h"

namespace mobilellm::hub {

// HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
std::filesystem::path hf_home();
// "~/x" → $HOME/x, as Python's os.path.expanduser does.
std::filesystem::path expand_user(const std::string& path);
// HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (huggingface_hub constants.py).
std::filesystem::path default_cache_dir();

// True for a full 40-hex-digit commit id.
bool is_commit_hash(const std::string& revision);

class RepoCache {
 public:
  RepoCache(std::filesystem::path cache_dir, const std::string& repo_id);

  const std::filesystem::path& folder() const { return folder_; }
  std::filesystem::path blob(const std::string& etag) const;
  std::filesystem::path snapshot(const std::string& commit) const;
  std::filesystem::path lock_file(const std::string& etag) const;

  // The commit `revision` names: itself when it is a commit id, else refs/<revision>.
  std::optional<std::string> commit_for(const std::string& revision) const;
  // refs/<revision> = commit, written atomically; nothing when revision is the commit itself.
  void write_ref(const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<path> -> ../../blobs/<etag>, replacing any old link atomically.
  void link(const std::string& commit, const std::string& path, const std::string& etag) const;

 private:
  std::filesystem::path cache_dir_;
  std::string folder_name_;
  std::filesystem::path folder_;
};

// Thrown when the cancel flag (Ctrl-C) stops a transfer or a wait.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted") {}
};

// An exclusive flock(2) on a file, held for the object's life. huggingface_hub
// takes the same lock (filelock), so its downloads and ours wait for each other.
// Waiting ends with Interrupted when `cancel` is set.
class FileLock {
 public:
  FileLock(const std::filesystem::path& path, const std::atomic<bool>* cancel);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mobilellm::hub
