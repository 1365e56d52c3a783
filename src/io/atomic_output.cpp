#include "io/atomic_output.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>

#include "runtime/error.h"

namespace mobilellm::io {

namespace fs = std::filesystem;

namespace {

// Temporaries being written, for the signal handler: fixed storage, because a
// handler may only use async-signal-safe calls (unlink) on plain memory.
constexpr int kSlots = 16;
constexpr size_t kPathBytes = 4096;
enum SlotState : int { kFree, kClaimed, kReady };  // the handler reads only kReady slots
struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathBytes];
};
std::array<Slot, kSlots> g_slots;
std::once_flag g_handlers_installed;

void remove_temporaries_and_die(int sig) {
  for (Slot& s : g_slots)
    if (s.state.load() == kReady) ::unlink(s.path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Only where the process would otherwise die of the signal: a program that
// handles SIGINT itself (the server, chat) keeps its own handling.
void install_handlers() {
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temporaries_and_die;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

int claim_slot(const fs::path& temp) {
  const std::string text = temp.string();
  if (text.size() >= kPathBytes) return -1;  // not removable on a signal; removed on errors still
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_slots[i].state.compare_exchange_strong(expected, kClaimed)) {
      std::memcpy(g_slots[i].path, text.c_str(), text.size() + 1);
      g_slots[i].state = kReady;
      return i;
    }
  }
  return -1;
}

// Temporaries of the same output left by a process that no longer runs (SIGKILL, power loss).
void remove_stale_temporaries(const fs::path& path) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string prefix = path.filename().string() + ".partial-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

}  // namespace

void check_output_path(const fs::path& output, bool overwrite, const std::vector<fs::path>& inputs) {
  std::error_code ec;
  if (!fs::exists(output, ec)) return;
  for (const fs::path& in : inputs)
    if (fs::equivalent(output, in, ec))
      throw Error(output.string() + ": is one of the inputs (" + in.string() + "); choose another output");
  if (fs::is_directory(output, ec)) throw Error(output.string() + ": is a directory; name a file to write");
  if (!overwrite) throw Error(output.string() + ": exists; use --force to overwrite it");
}

AtomicOutput::AtomicOutput(fs::path path)
    : path_(std::move(path)), temp_(path_.string() + ".partial-" + std::to_string(::getpid())) {
  std::call_once(g_handlers_installed, install_handlers);
  remove_stale_temporaries(path_);
  slot_ = claim_slot(temp_);
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || !(file_ = ::fdopen(fd, "wb"))) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (slot_ >= 0) g_slots[slot_].state = kFree;
    throw Error(temp_.string() + ": cannot create: " + std::generic_category().message(err));
  }
}

AtomicOutput::~AtomicOutput() {
  if (file_) std::fclose(file_);
  if (!committed_) ::unlink(temp_.c_str());
  if (slot_ >= 0) g_slots[slot_].state = kFree;
}

void AtomicOutput::fail(const char* what) const {
  throw Error(temp_.string() + ": " + what + ": " + std::generic_category().message(errno));
}

void AtomicOutput::write(const void* data, size_t bytes) {
  if (bytes && std::fwrite(data, 1, bytes, file_) != bytes) fail("write failed");
}

void AtomicOutput::commit() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail("write failed");
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) fail("write failed");
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Error(path_.string() + ": cannot rename " + temp_.string() +
                " into place: " + std::generic_category().message(errno));
  committed_ = true;
  // The rename itself is durable once the folder is synced.
  const fs::path dir = path_.parent_path().empty() ? fs::path(".") : path_.parent_path();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomically(const fs::path& path, const void* data, size_t bytes) {
  AtomicOutput out(path);
  out.write(data, bytes);
  out.commit();
}

}  // namespace mobilellm::io
