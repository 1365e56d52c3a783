#pragma once
// The public API of mobilellm: what `mobilellm chat`, the server and programs
// that embed the engine use.
//
//   auto engine = mobilellm::Engine::load({.model = "ckpt/"});
//   auto session = engine->new_session();
//   mobilellm::GenerateRequest request = engine->default_request();
//   request.prompt = engine->tokenizer().encode("Hello", {.add_bos = true});
//   session->generate(request, [](const mobilellm::TokenEvent& e) {
//     std::fwrite(e.text.data(), 1, e.text.size(), stdout);
//     return true;  // false stops the generation
//   });
//
// An Engine (weights, tokenizer, thread pool) is read-only after loading and
// shared by any number of Sessions. A Session owns a KV cache and the tokens
// in it, and is used by one thread at a time. Sessions generating on
// different threads at once are batched (continuous batching): each forward
// step runs the next token of every one of them, plus a chunk of a prompt
// being read, in one pass over the weights. A session's results do not
// depend on what else runs beside it.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mobilellm/chat.h"
#include "mobilellm/error.h"
#include "mobilellm/perplexity.h"
#include "mobilellm/tokenizer.h"

namespace mobilellm {

struct EngineOptions {
  std::filesystem::path model;      // a checkpoint directory
  std::filesystem::path tokenizer;  // empty: found in the checkpoint directory
  int threads = 0;                  // 0: all cores
  bool verify = false;              // check every tensor checksum of a model file while loading
  // false: a model that carries no tokenizer loads too, for token ids in and
  // out only (tokens then add no text; tokenizer() and render_chat() throw).
  bool require_tokenizer = true;
  // Prompt tokens one forward step takes at most. A longer prompt is read in
  // chunks this long, and the sessions generating meanwhile get a token
  // between two chunks: smaller chunks make them wait less, larger ones read
  // prompts faster (each chunk is one pass over the weights).
  int64_t prefill_chunk = 256;
  // The default of GenerateRequest::draft_max (default_request()):
  // speculative decoding; 0: off.
  int64_t draft_max = 0;
  // Speculative decoding's proposer: a smaller model that shares the
  // tokenizer (checked: Engine::load throws Error otherwise), whose greedy
  // tokens are the guesses; empty: prompt lookup.
  std::filesystem::path draft_model;
};

// What the forward steps did since the engine loaded. The mean batch is
// sequences / steps sessions and tokens / steps tokens.
struct StepStats {
  uint64_t steps = 0;
  uint64_t sequences = 0;  // summed over the steps
  uint64_t tokens = 0;     // summed over the steps
  int64_t last_sequences = 0;
  int64_t last_tokens = 0;
};

struct ModelInfo {
  std::string name;  // the checkpoint directory's name
  int64_t vocab_size = 0;
  int64_t max_context = 0;  // max_position_embeddings
  int64_t parameters = 0;
  bool random_weights = false;  // written by `mobilellm make-random`
};

struct Sampling {
  double temperature = 0.6;         // 0: greedy
  double top_p = 0.9;               // 1: off
  int64_t top_k = 0;                // 0: off
  double min_p = 0.0;               // 0: off
  double repetition_penalty = 1.0;  // 1: off
  uint64_t seed = 0;
};

// Restricts what may be generated (a grammar, a schema): consulted before
// every sampled token.
class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Sets the logits of tokens that may not come next to -infinity; returns
  // how many tokens remain allowed.
  virtual int64_t mask(std::span<float> logits) = 0;
  // Moves past `token`, one that mask() allowed.
  virtual void accept(int32_t token) = 0;
};

struct TokenLogprob {
  int32_t id = -1;
  float logprob = 0;                           // natural log of the model's probability (before sampling settings)
  std::vector<std::pair<int32_t, float>> top;  // the most likely tokens, most likely first
};

enum class FinishReason { kStop, kLength, kCancelled };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", "cancelled"

// GenerateRequest::draft_max at most.
inline constexpr int64_t kMaxDraftTokens = 64;

struct GenerateRequest {
  std::vector<int32_t> prompt;  // token ids, used exactly as given (no BOS is added)
  int64_t max_tokens = 256;     // 0: only read (and score) the prompt
  Sampling sampling;
  std::vector<int32_t> stop_ids;          // a sampled stop id ends the answer (and adds no text)
  std::vector<std::string> stop_strings;  // the text ends before the first occurrence
  int logprobs = -1;                      // generated tokens: -1 none; N ≥ 0: the token's logprob and the top N
  int prompt_logprobs = -1;               // the same for prompt tokens 1… (scores the prompt, for `echo`)
  bool skip_special = true;               // special tokens add no text
  TokenConstraint* constraint = nullptr;
  const std::atomic<bool>* cancel = nullptr;  // set by another thread to stop early
  // Speculative decoding: up to this many tokens proposed by prompt lookup
  // (n-grams of the prompt and the answer), or by the engine's draft model
  // (EngineOptions::draft_model), are verified in each forward pass
  // beside the last sampled one; 0: off. The answer is the same as without
  // it: token for token when greedy, in distribution when sampling (the
  // tokens a seed gives differ). Proposing backs off while guesses fail.
  int64_t draft_max = 0;
};

// One generated token. `text` is the text this token completes: whole UTF-8
// characters only, and text that might begin a stop string is held back until
// it is known not to. The last event of an answer carries whatever was held.
struct TokenEvent {
  int32_t id = -1;
  std::string_view text;
  const TokenLogprob* logprob = nullptr;  // when requested
  bool last = false;
};
// Returning false cancels the generation.
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerateResult {
  std::vector<int32_t> tokens;  // every sampled token, a final stop id included
  std::string text;
  std::vector<TokenLogprob> logprobs;         // per sampled token, when requested
  std::vector<TokenLogprob> prompt_logprobs;  // [i] scores prompt[i + 1], when requested
  FinishReason finish = FinishReason::kLength;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens whose KV cache was reused
  double prefill_seconds = 0;
  double decode_seconds = 0;  // from the first sampled token to the end
  // Forward passes after the prompt's (the first token comes from that one):
  // tokens per pass is (tokens − 1) / decode_passes.
  int64_t decode_passes = 0;
  int64_t draft_tokens = 0;     // speculative decoding: tokens proposed and verified
  int64_t accepted_tokens = 0;  // of which the model agreed with these
};

// What this build runs on this CPU, as llama.cpp prints its system info: for
// `mobilellm --version` and bug reports. MOBILELLM_ISA applies; throws Error
// when it names a table this build or CPU cannot run.
struct SystemInfo {
  std::string cpu_features;   // e.g. "avx2 avx512 avx512-vnni", "neon neon-dotprod neon-i8mm"
  std::string float_kernels;  // the table of bf16 / f32 checkpoints: scalar, avx2, avx512, neon
  std::string quant_kernels;  // the table of int4 models (q4g32, q4cw, q4_1): scalar, avx2, avx512, amx, neon, i8mm
};
SystemInfo system_info();

class Engine;

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the prompt (reusing the KV cache of the longest common prefix with
  // what this session ran before, where the sliding-window layers still hold
  // it) and samples up to max_tokens tokens. Throws mobilellm::Error for a
  // request that cannot run (a prompt longer than the context, an id outside
  // the vocabulary, bad sampling settings); the session stays usable.
  GenerateResult generate(const GenerateRequest& request, const TokenCallback& on_token = {});

  // The logits of every position of `ids`, run from an empty cache as one
  // forward pass: [ids.size()][vocab_size] floats, row-major, the numbers
  // `mobilellm logits` writes. The cache then holds `ids`. Throws Error for
  // an empty list, one longer than the context, or an id outside the vocabulary.
  std::vector<float> logits(std::span<const int32_t> ids);

  void reset();                                // forget the cache
  const std::vector<int32_t>& tokens() const;  // the tokens the KV cache holds, in order
  int64_t context() const;
  int64_t cache_bytes() const;

 private:
  friend class Engine;
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // Throws mobilellm::Error with a message naming the file for a checkpoint
  // or tokenizer that cannot be loaded.
  static std::shared_ptr<Engine> load(const EngineOptions& options);
  ~Engine();

  const ModelInfo& info() const;
  bool has_tokenizer() const;          // false only when loaded without one (EngineOptions::require_tokenizer)
  const Tokenizer& tokenizer() const;  // throws Error when there is none
  // A request with the checkpoint's sampling defaults (generation_config.json)
  // and stop ids.
  GenerateRequest default_request() const;
  // The conversation in the model's chat format (the checkpoint's chat
  // template when it has one, else Llama-4's), as token ids ready to run,
  // BOS included. `tools_json`: empty, or a JSON list of tool definitions
  // ({"type": "function", "function": {...}}) as text. Throws Error for a
  // conversation the format cannot render.
  std::vector<int32_t> render_chat(const std::vector<ChatMessage>& messages, const std::string& tools_json,
                                   bool add_generation_prompt) const;

  // context 0: the model's maximum.
  std::unique_ptr<Session> new_session(int64_t context = 0);

  // Perplexity (include/mobilellm/perplexity.h). `text` cut into chunks of
  // `context` tokens; chunks −1: all the text holds, else at most that many.
  // Throws Error when the text has fewer than 2 · context tokens (llama.cpp's
  // rule), context is under 4 or over the model's maximum, or chunks is
  // neither −1 nor positive.
  PerplexityChunks perplexity_chunks(std::string_view text, int64_t context, int64_t chunks = -1) const;
  // Scores every chunk from an empty KV cache of its own, through the same
  // forward steps as the sessions (safe beside them on other threads). Throws
  // Error for a batch outside 0 … prefill_chunk() or chunks whose tokens are
  // outside this model's vocabulary or context.
  PerplexityResult perplexity(const PerplexityChunks& chunks, const PerplexityOptions& options = {}) const;
  int threads() const;
  int64_t prefill_chunk() const;
  StepStats step_stats() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mobilellm
