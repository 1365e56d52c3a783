#pragma once
// What an Engine holds, shared by engine.cpp and session.cpp.
#include <memory>
#include <optional>

#include "chat/chat_format.h"
#include "engine/fair_lock.h"
#include "mobilellm/engine.h"
#include "model/model.h"
#include "runtime/thread_pool.h"

namespace mobilellm {

struct Engine::Impl {
  Impl(std::shared_ptr<const model::Model> m, std::optional<Tokenizer> t, int threads)
      : model(std::move(m)),
        tokenizer(std::move(t)),
        chat(tokenizer ? ChatFormat(*tokenizer) : ChatFormat()),
        pool(threads) {}

  std::shared_ptr<const model::Model> model;
  std::optional<Tokenizer> tokenizer;  // absent only when loaded without one
  ChatFormat chat;
  ModelInfo info;
  GenerateRequest defaults;
  ThreadPool pool;
  // One forward pass at a time on the shared pool, sessions in arrival order.
  engine::FairLock forward_lock;
};

}  // namespace mobilellm
