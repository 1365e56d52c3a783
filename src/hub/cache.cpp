#include "hub/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "runtime/error.h"

namespace mobilellm::hub {
namespace fs = std::filesystem;
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A name beside `target` that no other process picks.
fs::path temporary_beside(const fs::path& target) {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  std::ostringstream name;
  name << target.filename().string() << "." << std::hex << rng() << ".tmp";
  return target.parent_path() / name.str();
}

}  // namespace

fs::path expand_user(const std::string& path) {
  if (path == "~") return env("HOME");
  if (path.rfind("~/", 0) == 0) return fs::path(env("HOME")) / path.substr(2);
  return path;
}

fs::path hf_home() {
  if (!env("HF_HOME").empty()) return expand_user(env("HF_HOME"));
  const fs::path cache = env("XDG_CACHE_HOME").empty() ? expand_user("~/.cache") : fs::path(env("XDG_CACHE_HOME"));
  return cache / "huggingface";
}

fs::path default_cache_dir() {
  if (!env("HF_HUB_CACHE").empty()) return expand_user(env("HF_HUB_CACHE"));
  if (!env("HUGGINGFACE_HUB_CACHE").empty()) return expand_user(env("HUGGINGFACE_HUB_CACHE"));
  return hf_home() / "hub";
}

bool is_commit_hash(const std::string& revision) {
  if (revision.size() != 40) return false;
  for (char c : revision)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

RepoCache::RepoCache(fs::path cache_dir, const std::string& repo_id) : cache_dir_(std::move(cache_dir)) {
  // repo_folder_name(): "models" and the repo id's parts joined by "--".
  folder_name_ = "models";
  std::istringstream parts(repo_id);
  for (std::string part; std::getline(parts, part, '/');) folder_name_ += "--" + part;
  folder_ = cache_dir_ / folder_name_;
}

fs::path RepoCache::blob(const std::string& etag) const { return folder_ / "blobs" / etag; }
fs::path RepoCache::snapshot(const std::string& commit) const { return folder_ / "snapshots" / commit; }
fs::path RepoCache::lock_file(const std::string& etag) const {
  return cache_dir_ / ".locks" / folder_name_ / (etag + ".lock");
}

std::optional<std::string> RepoCache::commit_for(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  std::ifstream in(folder_ / "refs" / revision);
  std::string commit;
  if (!in || !std::getline(in, commit) || !is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  const fs::path ref = folder_ / "refs" / revision;
  if (commit_for(revision) == commit) return;  // leaves a read-only cache alone when nothing changed
  fs::create_directories(ref.parent_path());
  const fs::path tmp = temporary_beside(ref);
  {
    std::ofstream out(tmp, std::ios::binary);
    out << commit;  // no newline: huggingface_hub reads the whole file as the commit
    if (!out.flush()) throw Error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, ref);
}

void RepoCache::link(const std::string& commit, const std::string& path, const std::string& etag) const {
  const fs::path pointer = snapshot(commit) / path;
  fs::create_directories(pointer.parent_path());
  // From snapshots/<commit>/<dirs…>/ back up to the repo folder.
  std::string target;
  for (size_t depth = 2 + static_cast<size_t>(std::count(path.begin(), path.end(), '/')); depth > 0; --depth)
    target += "../";
  target += "blobs/" + etag;
  const fs::path tmp = temporary_beside(pointer);
  fs::create_symlink(target, tmp);
  fs::rename(tmp, pointer);
}

FileLock::FileLock(const fs::path& path, const std::atomic<bool>* cancel) {
  fs::create_directories(path.parent_path());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path.string() + ": cannot open the lock file: " + std::strerror(errno));
  // Polled rather than blocking, so Ctrl-C ends the wait for another pull.
  while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK && err != EINTR) {
      ::close(fd_);
      throw Error(path.string() + ": cannot lock: " + std::strerror(err));
    }
    if (cancel && cancel->load()) {
      ::close(fd_);
      throw Interrupted();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace mobilellm::hub
