#pragma once
// What an Engine holds, shared by engine.cpp and session.cpp.
#include <memory>

#include "engine/fair_lock.h"
#include "mobilellm/engine.h"
#include "model/model.h"
#include "runtime/thread_pool.h"

namespace mobilellm {

struct Engine::Impl {
  Impl(std::shared_ptr<const model::Model> m, Tokenizer t, int threads)
      : model(std::move(m)), tokenizer(std::move(t)), chat(tokenizer), pool(threads) {}

  std::shared_ptr<const model::Model> model;
  Tokenizer tokenizer;
  ChatFormat chat;
  ModelInfo info;
  GenerateRequest defaults;
  ThreadPool pool;
  // One forward pass at a time on the shared pool, sessions in arrival order.
  engine::FairLock forward_lock;
};

}  // namespace mobilellm
