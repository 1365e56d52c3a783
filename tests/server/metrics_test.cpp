#include "server/metrics.h"

#include <gtest/gtest.h>

namespace mobilellm::server {
namespace {

TEST(Metrics, PrometheusText) {
  Metrics m;
  m.request("/v1/completions", 200, 0.02);
  m.request("/v1/completions", 200, 3.0);
  m.request("/v1/completions", 400, 0.001);
  m.generation(10, 4, 5, 0.1, 0.4);
  m.rejected("queue_full");
  Gauges g{2, 1, 3, 8, 4096, {}};
  g.steps = {.steps = 10, .sequences = 25, .tokens = 40, .last_sequences = 3, .last_tokens = 9};
  const std::string text = m.render(g);
  EXPECT_NE(text.find("mobilellm_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_requests_total{endpoint=\"/v1/completions\",status=\"400\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_request_duration_seconds_bucket{endpoint=\"/v1/completions\",le=\"0.025\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("mobilellm_request_duration_seconds_bucket{endpoint=\"/v1/completions\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("mobilellm_request_duration_seconds_count{endpoint=\"/v1/completions\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_prompt_tokens_total 10\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_prompt_tokens_cached_total 4\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_generation_tokens_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_time_per_output_token_seconds_sum 0.10000000000000001\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_queue_depth 3\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_rejected_requests_total{reason=\"queue_full\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_kv_cache_bytes 4096\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_batch_steps_total 10\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_batch_sequences_total 25\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_batch_tokens_total 40\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_batch_size 3\n"), std::string::npos);
  EXPECT_NE(text.find("mobilellm_batch_tokens 9\n"), std::string::npos);
}

}  // namespace
}  // namespace mobilellm::server
