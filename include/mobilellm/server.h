#pragma once
// The OpenAI-compatible HTTP server: `mobilellm serve`. Listens at once and
// loads the model in the background (GET /health answers 503 until it is
// ready), then serves
//   POST /v1/chat/completions, POST /v1/completions, GET /v1/models,
//   GET /health, GET /metrics, GET /tokenizer_info, POST /tokenize, POST /detokenize.
#include <cstddef>
#include <memory>
#include <string>

#include "mobilellm/engine.h"

namespace mobilellm::server {

// Prompt chunks of 128 tokens: a 1,500-token prompt arriving while 3 streams
// decode (full MobileLLM-Pro, 2 threads) kept their longest wait at 11 % of
// its prefill time and its first token within 1.11× of an idle server's
// (BENCHMARKS.md "Continuous batching").
inline EngineOptions serve_engine_defaults() {
  EngineOptions o;
  o.prefill_chunk = 128;
  return o;
}

struct ServerOptions {
  EngineOptions engine = serve_engine_defaults();
  std::string host = "127.0.0.1";
  int port = 8080;      // 0: any free port
  int parallel = 2;     // generation slots
  int64_t context = 0;  // per slot; 0: min(the model's maximum, 8192)
  int max_queue = 32;   // requests waiting for a slot before 503
  std::string api_key;  // empty: no authentication
  size_t max_body_bytes = 8u << 20;
  int max_connections = 128;  // connections served at once; as many more wait, beyond that refused
  int idle_timeout = 5;       // seconds a connection may wait for its next request
  int request_timeout = 20;   // seconds to receive one request's headers and body (slowloris)
  std::string served_name;    // empty: the checkpoint directory's name
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops the server
  // Binds the address; returns the port (useful with port 0). Throws Error.
  int bind();
  // Starts answering in the background; until load() finishes, every
  // endpoint but /health answers 503.
  void start();
  // Loads the model and returns what it is; throws Error when it cannot.
  ModelInfo load();
  // Blocks until stop().
  void wait();
  // From any thread: stops accepting, cancels the running generations (their
  // clients get a last chunk with finish_reason "cancelled") and ends wait()
  // once the open requests have answered.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mobilellm::server
