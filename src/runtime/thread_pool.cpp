#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#define MOBILELLM_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define MOBILELLM_PAUSE() asm volatile("yield")
#else
#define MOBILELLM_PAUSE() ((void)0)
#endif

namespace mobilellm {
namespace {
// How long an idle worker spins before it sleeps: long enough to cover the
// gap between two kernels of one forward pass, short enough not to burn a
// core while a user reads the answer.
constexpr auto kSpinDuration = std::chrono::milliseconds(2);
// Pauses before a waiting thread starts yielding its core (a few microseconds).
constexpr int kPauseSpins = 2000;

// One step of a busy wait: pause while the core is ours, yield once the wait
// is long so that an oversubscribed machine runs the thread we wait for.
void wait_step(int spins) {
  if (spins < kPauseSpins)
    MOBILELLM_PAUSE();
  else
    std::this_thread::yield();
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::work_on_current_job(int thread) {
  for (;;) {
    int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= job_tasks_) break;
    try {
      (*job_)(task, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      next_task_.store(job_tasks_, std::memory_order_relaxed);  // skip the rest
    }
  }
}

void ThreadPool::worker_loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    auto spin_until = std::chrono::steady_clock::now() + kSpinDuration;
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      wait_step(++spins);
      if (spins % 1024 == 0 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_) return;
    work_on_current_job(thread);
    if (busy_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // The caller may be asleep in run(): taking the mutex orders this
      // wake-up after its check of busy_workers_.
      { std::lock_guard<std::mutex> lock(mutex_); }
      done_.notify_one();
    }
  }
}

void ThreadPool::run(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  job_ = &fn;
  job_tasks_ = n_tasks;
  next_task_.store(0, std::memory_order_relaxed);
  busy_workers_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  work_on_current_job(0);
  for (int spins = 0; busy_workers_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4 * kPauseSpins) {
      wait_step(spins);
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_workers_.load(std::memory_order_acquire) == 0; });
  }
  job_ = nullptr;
  std::exception_ptr failure;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(failure, failure_);
  }
  if (failure) std::rethrow_exception(failure);
}

void ThreadPool::split(int64_t n, int64_t align, const std::function<void(int64_t, int64_t, int)>& fn) {
  align = std::max<int64_t>(1, align);
  int64_t units = (n + align - 1) / align;
  int64_t parts = std::min<int64_t>(n_threads_, units);
  if (parts <= 1) {
    if (n > 0) fn(0, n, 0);
    return;
  }
  run(parts, [&](int64_t part, int thread) {
    int64_t begin = std::min(n, (units * part / parts) * align);
    int64_t end = std::min(n, (units * (part + 1) / parts) * align);
    if (begin < end) fn(begin, end, thread);
  });
}

int default_thread_count() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace mobilellm
