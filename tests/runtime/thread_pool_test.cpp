#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mobilellm {
namespace {

// More threads than this machine has cores: the waits must hand their core to
// the thread they wait for, or this test takes minutes instead of a second.
TEST(ThreadPool, EveryTaskRunsOnceAcrossManySmallJobs) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(64);
    for (int job = 0; job < 2000; ++job) {
      const int64_t n = 1 + job % 64;
      pool.run(n, [&](int64_t task, int thread) {
        ASSERT_GE(thread, 0);
        ASSERT_LT(thread, threads);
        hits[static_cast<size_t>(task)].fetch_add(1);
      });
      for (int64_t t = 0; t < 64; ++t)
        ASSERT_EQ(hits[static_cast<size_t>(t)].exchange(0), t < n ? 1 : 0) << threads << " threads, job " << job;
    }
  }
}

TEST(ThreadPool, SplitCoversTheRangeInAlignedParts) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 5, 31, 32, 33, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.split(n, 8, [&](int64_t begin, int64_t end, int) {
      EXPECT_EQ(begin % 8, 0);
      EXPECT_TRUE(end % 8 == 0 || end == n);
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1) << "n = " << n;
  }
}

// A throwing task must reach the caller as that exception (not std::terminate),
// and the pool must stay usable afterwards.
TEST(ThreadPool, ExceptionFromAnyThreadReachesTheCaller) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int64_t bad : {int64_t{0}, int64_t{7}, int64_t{99}}) {
      EXPECT_THROW(pool.run(100,
                            [&](int64_t task, int) {
                              if (task == bad) throw std::runtime_error("task failed");
                              std::this_thread::sleep_for(std::chrono::microseconds(10));
                            }),
                   std::runtime_error);
      std::atomic<int> count{0};
      pool.run(100, [&](int64_t, int) { count.fetch_add(1); });
      EXPECT_EQ(count.load(), 100);
    }
  }
}

// Workers that fell asleep between jobs must wake for the next one.
TEST(ThreadPool, WakesAfterIdling) {
  ThreadPool pool(2);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::atomic<int> count{0};
    pool.run(16, [&](int64_t, int) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), 16);
  }
}

}  // namespace
}  // namespace mobilellm
