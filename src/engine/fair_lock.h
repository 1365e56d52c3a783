#pragma once
// A mutex that hands the lock out in arrival order. Sessions take turns on the
// forward pass one batch or one token at a time; with a plain mutex the thread
// that just released it often wins again and starves the others.
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace mobilellm::engine {

class FairLock {
 public:
  void lock() {
    std::unique_lock<std::mutex> guard(mutex_);
    const uint64_t ticket = next_++;
    turn_.wait(guard, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      ++serving_;
    }
    turn_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable turn_;
  uint64_t next_ = 0, serving_ = 0;
};

}  // namespace mobilellm::engine
