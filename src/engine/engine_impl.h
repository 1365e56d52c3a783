#pragma once
// What an Engine holds, shared by engine.cpp and session.cpp.
#include <memory>
#include <optional>

#include "chat/chat_format.h"
#include "engine/step_batcher.h"
#include "mobilellm/engine.h"
#include "model/model.h"
#include "runtime/thread_pool.h"

namespace mobilellm {

struct Engine::Impl {
  Impl(std::shared_ptr<const model::Model> m, std::optional<Tokenizer> t, int threads, int64_t prefill_chunk)
      : model(std::move(m)),
        tokenizer(std::move(t)),
        chat(tokenizer ? ChatFormat(*tokenizer) : ChatFormat()),
        pool(threads),
        batcher(*model, pool, prefill_chunk) {}

  std::shared_ptr<const model::Model> model;
  std::optional<Tokenizer> tokenizer;  // absent only when loaded without one
  ChatFormat chat;
  ModelInfo info;
  GenerateRequest defaults;
  ThreadPool pool;
  // Every session's forward work, batched into steps on the shared pool.
  engine::StepBatcher batcher;
  // EngineOptions::draft_model: the proposer of speculative decoding; null: prompt lookup.
  std::shared_ptr<Engine> draft;
};

}  // namespace mobilellm
