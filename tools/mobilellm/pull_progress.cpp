#include "pull_progress.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "hub/cache.h"

namespace mobilellm::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

void on_stop_signal(int sig) {
  g_signal = sig;
  g_stop = true;
}

// SIGINT and SIGTERM set the stop flag while a pull runs; the old handlers come back after.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

std::string clock_time(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

class ProgressView {
 public:
  explicit ProgressView(bool quiet) : quiet_(quiet), terminal_(isatty(STDERR_FILENO)) {}

  void update(const std::string& path, uint64_t done, uint64_t total) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    if (path != path_) {
      path_ = path;
      start_ = now;
      start_bytes_ = done;
      if (!terminal_)
        std::fprintf(stderr, "%s: %s%s\n", path.c_str(),
                     total ? human_bytes(static_cast<double>(total)).c_str() : "size unknown",
                     done ? (", resuming at " + human_bytes(static_cast<double>(done))).c_str() : "");
    }
    done_ = done;
    total_ = total;
    if (!terminal_ || now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done - start_bytes_) / seconds : 0;
    constexpr int kWidth = 24;
    const double f = total ? static_cast<double>(done) / static_cast<double>(total) : 0;
    const int filled = static_cast<int>(f * kWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
    const std::string eta = rate > 0 && total ? clock_time(static_cast<double>(total - done) / rate) : "-:--:--";
    std::fprintf(stderr, "\r%-32.32s [%s] %3.0f%% %9s / %-9s %9s/s ETA %s ", path.c_str(), bar.c_str(), 100 * f,
                 human_bytes(static_cast<double>(done)).c_str(), human_bytes(static_cast<double>(total)).c_str(),
                 human_bytes(rate).c_str(), eta.c_str());
    std::fflush(stderr);
  }

  void file_done(const std::string& path, bool downloaded) {
    if (quiet_) return;
    if (!downloaded) {
      std::fprintf(stderr, "%s: in the cache\n", path.c_str());
    } else {
      const double seconds =
          path == path_ ? std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() : 0;
      std::fprintf(stderr, "%s%s: %s in %.1f s\n", terminal_ ? "\r\033[K" : "", path.c_str(),
                   human_bytes(static_cast<double>(done_)).c_str(), seconds);
    }
    path_.clear();
  }

 private:
  bool quiet_, terminal_;
  std::string path_;
  uint64_t done_ = 0, total_ = 0, start_bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace

hub::PullResult pull_with_progress(hub::PullOptions options, bool quiet) {
  ProgressView view(quiet);
  options.cancel = &g_stop;
  options.events.begin = [&](const std::string& commit, size_t files) {
    if (!quiet)
      std::fprintf(stderr, "pulling %s at commit %s: %zu files into %s\n", options.ref.repo.c_str(), commit.c_str(),
                   files, options.cache_dir.c_str());
  };
  options.events.progress = [&](const std::string& path, uint64_t done, uint64_t total) {
    view.update(path, done, total);
  };
  options.events.file_done = [&](const std::string& path, bool downloaded) { view.file_done(path, downloaded); };
  StopSignals signals;
  try {
    return hub::pull(options);
  } catch (const hub::Interrupted&) {
    std::fprintf(stderr, "%sinterrupted: the partial download is kept out of sight and resumes on the next pull\n",
                 isatty(STDERR_FILENO) ? "\n" : "");
    const int sig = g_signal.load();
    signal(sig, SIG_DFL);  // end as the signal would have ended us, for the shell
    raise(sig);
    throw;
  }
}

}  // namespace mobilellm::cli
