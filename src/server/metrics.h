#pragma once
// Server counters, gauges and latency histograms, rendered in the Prometheus
// text exposition format for GET /metrics. Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mobilellm/engine.h"

namespace mobilellm::server {

// What /metrics reads from the scheduler and the engine when it renders.
struct Gauges {
  int slots_total = 0, slots_busy = 0, queue_depth = 0, queue_limit = 0;
  int64_t kv_cache_bytes = 0;
  StepStats steps;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Appends the _bucket, _sum and _count lines of `name{labels}`.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // One finished HTTP request.
  void request(const std::string& endpoint, int status, double seconds);
  // One finished generation.
  void generation(int64_t prompt_tokens, int64_t cached_tokens, int64_t generated_tokens, double first_token_seconds,
                  double decode_seconds);
  // Its speculative decoding (GenerateResult's counters).
  void speculation(int64_t draft_tokens, int64_t accepted_tokens, int64_t decode_passes, int64_t decoded_tokens);
  void rejected(const std::string& reason);  // queue full, …
  void cancelled();

  std::string render(const Gauges& gauges) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, uint64_t> rejected_;
  uint64_t cancelled_ = 0;
  uint64_t prompt_tokens_ = 0, cached_tokens_ = 0, generated_tokens_ = 0, generations_ = 0;
  uint64_t draft_tokens_ = 0, accepted_tokens_ = 0, decode_passes_ = 0, decoded_tokens_ = 0;
  Histogram first_token_{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
  Histogram per_token_{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
};

}  // namespace mobilellm::server
