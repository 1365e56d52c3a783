#include "server/metrics.h"

#include <cstdio>

namespace mobilellm::server {
namespace {

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

std::string number(double v, const char* format = "%.17g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// a / b, 0 while b is 0.
std::string ratio(uint64_t a, uint64_t b) {
  return number(b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b));
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i], "%g") : "+Inf";
    out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

void Metrics::request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
  latency_.try_emplace(endpoint, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::generation(int64_t prompt_tokens, int64_t cached_tokens, int64_t generated_tokens,
                         double first_token_seconds, double decode_seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++generations_;
  prompt_tokens_ += static_cast<uint64_t>(prompt_tokens);
  cached_tokens_ += static_cast<uint64_t>(cached_tokens);
  generated_tokens_ += static_cast<uint64_t>(generated_tokens);
  if (generated_tokens > 0) first_token_.observe(first_token_seconds);
  if (generated_tokens > 1) per_token_.observe(decode_seconds / static_cast<double>(generated_tokens - 1));
}

void Metrics::speculation(int64_t draft_tokens, int64_t accepted_tokens, int64_t decode_passes,
                          int64_t decoded_tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  draft_tokens_ += static_cast<uint64_t>(draft_tokens);
  accepted_tokens_ += static_cast<uint64_t>(accepted_tokens);
  decode_passes_ += static_cast<uint64_t>(decode_passes);
  decoded_tokens_ += static_cast<uint64_t>(decoded_tokens);
}

void Metrics::rejected(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++rejected_[reason];
}

void Metrics::cancelled() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++cancelled_;
}

std::string Metrics::render(const Gauges& g) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "mobilellm_requests_total", "counter", "HTTP requests by endpoint and status.");
  for (const auto& [key, n] : requests_)
    out += "mobilellm_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  header(out, "mobilellm_request_duration_seconds", "histogram", "Time from request to last byte, by endpoint.");
  for (const auto& [endpoint, h] : latency_)
    h.render(out, "mobilellm_request_duration_seconds", "endpoint=\"" + endpoint + "\"");
  header(out, "mobilellm_rejected_requests_total", "counter", "Requests turned away (queue full).");
  for (const auto& [reason, n] : rejected_)
    out += "mobilellm_rejected_requests_total{reason=\"" + reason + "\"} " + std::to_string(n) + "\n";
  header(out, "mobilellm_cancelled_generations_total", "counter", "Generations stopped because the client went away.");
  out += "mobilellm_cancelled_generations_total " + std::to_string(cancelled_) + "\n";
  header(out, "mobilellm_generations_total", "counter", "Finished generations.");
  out += "mobilellm_generations_total " + std::to_string(generations_) + "\n";
  header(out, "mobilellm_prompt_tokens_total", "counter", "Prompt tokens read.");
  out += "mobilellm_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  header(out, "mobilellm_prompt_tokens_cached_total", "counter", "Prompt tokens whose KV cache was reused.");
  out += "mobilellm_prompt_tokens_cached_total " + std::to_string(cached_tokens_) + "\n";
  header(out, "mobilellm_generation_tokens_total", "counter", "Tokens generated.");
  out += "mobilellm_generation_tokens_total " + std::to_string(generated_tokens_) + "\n";
  header(out, "mobilellm_decode_passes_total", "counter",
         "Forward passes of generations after their prompt's (speculative decoding makes fewer than tokens).");
  out += "mobilellm_decode_passes_total " + std::to_string(decode_passes_) + "\n";
  header(out, "mobilellm_tokens_per_decode_pass", "gauge",
         "Tokens generated after the first per decode pass, over all generations (1 without speculation).");
  out += "mobilellm_tokens_per_decode_pass " + ratio(decoded_tokens_, decode_passes_) + "\n";
  header(out, "mobilellm_draft_tokens_total", "counter", "Speculative decoding: tokens proposed and verified.");
  out += "mobilellm_draft_tokens_total " + std::to_string(draft_tokens_) + "\n";
  header(out, "mobilellm_draft_accepted_tokens_total", "counter", "Speculative decoding: proposed tokens accepted.");
  out += "mobilellm_draft_accepted_tokens_total " + std::to_string(accepted_tokens_) + "\n";
  header(out, "mobilellm_draft_acceptance_rate", "gauge", "Accepted over proposed tokens, over all generations.");
  out += "mobilellm_draft_acceptance_rate " + ratio(accepted_tokens_, draft_tokens_) + "\n";
  header(out, "mobilellm_time_to_first_token_seconds", "histogram",
         "Time from admission to the first generated token.");
  first_token_.render(out, "mobilellm_time_to_first_token_seconds", "");
  header(out, "mobilellm_time_per_output_token_seconds", "histogram", "Mean time per generated token after the first.");
  per_token_.render(out, "mobilellm_time_per_output_token_seconds", "");
  header(out, "mobilellm_slots", "gauge", "Generation slots.");
  out += "mobilellm_slots " + std::to_string(g.slots_total) + "\n";
  header(out, "mobilellm_slots_busy", "gauge", "Slots generating now.");
  out += "mobilellm_slots_busy " + std::to_string(g.slots_busy) + "\n";
  header(out, "mobilellm_queue_depth", "gauge", "Requests waiting for a slot.");
  out += "mobilellm_queue_depth " + std::to_string(g.queue_depth) + "\n";
  header(out, "mobilellm_queue_limit", "gauge", "Requests that may wait before new ones are refused with 503.");
  out += "mobilellm_queue_limit " + std::to_string(g.queue_limit) + "\n";
  header(out, "mobilellm_kv_cache_bytes", "gauge", "Bytes the slots' KV caches hold (as of each slot's last request).");
  out += "mobilellm_kv_cache_bytes " + std::to_string(g.kv_cache_bytes) + "\n";
  header(out, "mobilellm_batch_steps_total", "counter",
         "Forward steps: each runs the next token of every generating request and at most one prompt chunk.");
  out += "mobilellm_batch_steps_total " + std::to_string(g.steps.steps) + "\n";
  header(out, "mobilellm_batch_sequences_total", "counter",
         "Requests summed over the steps (divided by the steps: the mean batch size).");
  out += "mobilellm_batch_sequences_total " + std::to_string(g.steps.sequences) + "\n";
  header(out, "mobilellm_batch_tokens_total", "counter",
         "Tokens summed over the steps (divided by the steps: the mean tokens per step).");
  out += "mobilellm_batch_tokens_total " + std::to_string(g.steps.tokens) + "\n";
  header(out, "mobilellm_batch_size", "gauge", "Requests in the last step.");
  out += "mobilellm_batch_size " + std::to_string(g.steps.last_sequences) + "\n";
  header(out, "mobilellm_batch_tokens", "gauge", "Tokens in the last step.");
  out += "mobilellm_batch_tokens " + std::to_string(g.steps.last_tokens) + "\n";
  return out;
}

}  // namespace mobilellm::server
