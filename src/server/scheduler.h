#pragma once
// N generation slots, each a Session with its own KV cache, and a bounded
// queue of requests waiting for one. Waiting requests are served in arrival
// order; a full queue refuses at once (the caller answers 503). A free slot
// is chosen by the longest prompt prefix its cache already holds, so a
// conversation tends to return to the slot that has its history.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "mobilellm/engine.h"

namespace mobilellm::server {

class Scheduler {
 public:
  Scheduler(Engine& engine, int slots, int64_t context, int max_queue);

  class Lease {
   public:
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Session& session() const;

   private:
    friend class Scheduler;
    Lease(Scheduler& owner, int slot) : owner_(owner), slot_(slot) {}
    Scheduler& owner_;
    int slot_;
  };

  enum class Admission { kAdmitted, kQueueFull, kAbandoned };
  // Waits for a slot. `abandoned` is polled while waiting (the client left).
  Admission acquire(std::span<const int32_t> prompt, const std::atomic<bool>& abandoned, std::unique_ptr<Lease>& lease);

  int slots() const { return static_cast<int>(slots_.size()); }
  int busy() const;
  int queued() const;
  int max_queue() const { return max_queue_; }
  int64_t context() const { return context_; }
  // Bytes the slots' KV caches hold, each as of the end of its last request.
  int64_t cache_bytes() const;

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    bool busy = false;
    uint64_t last_used = 0;
    int64_t cache_bytes = 0;  // read when released: a busy session belongs to its request's thread
  };
  int pick(std::span<const int32_t> prompt) const;  // a free slot; -1 if none
  void release(int slot);

  int64_t context_;
  int max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Slot> slots_;
  std::deque<uint64_t> waiting_;  // tickets in arrival order
  uint64_t next_ticket_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace mobilellm::server
