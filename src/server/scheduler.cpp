#include "server/scheduler.h"

#include <algorithm>
#include <chrono>

namespace mobilellm::server {
namespace {
// How often a waiting request checks whether its client is still there.
constexpr auto kPollInterval = std::chrono::milliseconds(50);
}  // namespace

Scheduler::Scheduler(Engine& engine, int slots, int64_t context, int max_queue)
    : context_(context), max_queue_(max_queue), slots_(static_cast<size_t>(slots)) {
  for (auto& slot : slots_) slot.session = engine.new_session(context);
}

Scheduler::Lease::~Lease() { owner_.release(slot_); }
Session& Scheduler::Lease::session() const { return *owner_.slots_[static_cast<size_t>(slot_)].session; }

int Scheduler::pick(std::span<const int32_t> prompt) const {
  int best = -1;
  size_t best_prefix = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.busy) continue;
    const auto& held = s.session->tokens();
    const size_t prefix =
        static_cast<size_t>(std::mismatch(held.begin(), held.end(), prompt.begin(), prompt.end()).first - held.begin());
    const bool better = best < 0 || prefix > best_prefix ||
                        (prefix == best_prefix && s.last_used < slots_[static_cast<size_t>(best)].last_used);
    if (better) {
      best = static_cast<int>(i);
      best_prefix = prefix;
    }
  }
  return best;
}

Scheduler::Admission Scheduler::acquire(std::span<const int32_t> prompt, const std::atomic<bool>& abandoned,
                                        std::unique_ptr<Lease>& lease) {
  std::unique_lock<std::mutex> lock(mutex_);
  int slot = waiting_.empty() ? pick(prompt) : -1;
  if (slot < 0) {
    if (static_cast<int>(waiting_.size()) >= max_queue_) return Admission::kQueueFull;
    const uint64_t ticket = next_ticket_++;
    waiting_.push_back(ticket);
    for (;;) {
      if (waiting_.front() == ticket && (slot = pick(prompt)) >= 0) break;
      if (abandoned.load()) {
        waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
        changed_.notify_all();  // the next in line may be first now
        return Admission::kAbandoned;
      }
      changed_.wait_for(lock, kPollInterval);
    }
    waiting_.pop_front();
    changed_.notify_all();
  }
  slots_[static_cast<size_t>(slot)].busy = true;
  slots_[static_cast<size_t>(slot)].last_used = ++clock_;
  lease.reset(new Lease(*this, slot));
  return Admission::kAdmitted;
}

void Scheduler::release(int slot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot& s = slots_[static_cast<size_t>(slot)];
    s.busy = false;
    s.cache_bytes = s.session->cache_bytes();
  }
  changed_.notify_all();
}

int Scheduler::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.busy; }));
}

int64_t Scheduler::cache_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t total = 0;
  for (const Slot& s : slots_) total += s.cache_bytes;
  return total;
}

int Scheduler::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(waiting_.size());
}

}  // namespace mobilellm::server
