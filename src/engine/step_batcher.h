#pragma once
// Continuous batching. Every session's forward work goes through the
// engine's one StepBatcher, which runs the work of all the sessions waiting
// at that moment as one model::Forward step: the next token of every
// generating session plus a chunk of at most `prefill_chunk` prompt tokens,
// so the weights are read once per step however many sessions generate, and
// a long prompt is split into chunks between which the others keep
// receiving tokens. The sessions' threads take turns at leading a step; each
// samples its own tokens in between.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <span>

#include "mobilellm/engine.h"
#include "model/forward.h"

namespace mobilellm::engine {

class StepBatcher {
 public:
  StepBatcher(const model::Model& model, ThreadPool& pool, int64_t prefill_chunk);

  // A session generating. Between two steps it samples its next token, so a
  // step waits for every member (at most about one step's time) before it
  // starts without the ones still busy.
  class Member {
   public:
    explicit Member(StepBatcher& batcher);
    ~Member();
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

   private:
    StepBatcher& batcher_;
  };

  // Runs `tokens` at positions cache.size()… in the coming steps, beside the
  // other sessions' work; a prompt longer than the chunk takes several steps.
  // logits as for model::Forward::run. Returns how many tokens ran: fewer
  // only when *cancel became true between two steps. Throws Error for ids
  // outside the vocabulary or a full context (before running anything), and
  // what the step threw (the cache is then in an unknown state).
  int64_t run(model::KvCache& cache, std::span<const int32_t> tokens, model::LogitsFor which, float* logits,
              const std::atomic<bool>* cancel);

  StepStats stats() const;
  int64_t prefill_chunk() const { return prefill_chunk_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Work {
    model::KvCache* cache;
    std::span<const int32_t> tokens;
    model::LogitsFor which;
    float* logits;
    const std::atomic<bool>* cancel;
    int64_t done_tokens = 0;
    Clock::time_point since;  // waiting since (the submission or the last step)
    bool finished = false;
    std::exception_ptr error;
  };
  // Whether a step should start now: every member is waiting, or the first
  // waiting work has waited the gather time.
  bool ready(Clock::time_point now) const;
  Clock::time_point deadline() const;
  // Runs one step of the waiting work; called with `lock` held, releases it
  // while the step runs.
  void lead(std::unique_lock<std::mutex>& lock);

  model::Forward forward_;
  const int64_t prefill_chunk_;
  const int64_t vocab_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Work*> waiting_;  // in arrival order
  int members_ = 0;
  bool stepping_ = false;
  Clock::duration gather_;  // how long a step waits for missing members
  StepStats stats_;
};

}  // namespace mobilellm::engine
