#pragma once
// A persistent pool of worker threads, passed around as a context object.
// Waiting threads spin briefly (generation issues hundreds of small jobs per
// token, and waking a sleeping thread costs more than the job), then yield,
// then sleep, so that a machine with more runnable threads than cores still
// runs the thread being waited for.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mobilellm {

class ThreadPool {
 public:
  // n_threads counts the calling thread: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(task, thread) for every task in [0, n_tasks), spread over the
  // threads; returns when all are done. thread is in [0, size()). If a task
  // throws, the tasks not yet started are skipped and the first exception is
  // rethrown here once every thread has left the job.
  void run(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

  // Splits [0, n) into one contiguous range per thread, each a multiple of
  // `align` long except the last; calls fn(begin, end, thread).
  void split(int64_t n, int64_t align, const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

 private:
  void worker_loop(int thread);
  void work_on_current_job(int thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int)>* job_ = nullptr;
  int64_t job_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> busy_workers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr failure_;  // first exception of the current job, under mutex_
  std::mutex mutex_;
  std::condition_variable wake_;  // workers wait here for the next job
  std::condition_variable done_;  // the caller waits here for the last worker
};

int default_thread_count();

}  // namespace mobilellm
