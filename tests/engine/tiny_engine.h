#pragma once
// A tiny random checkpoint with the real Llama-4 tokenizer, written once per
// test binary, and an Engine on it.
#include <memory>

#include "mobilellm/engine.h"

namespace mobilellm::test {

std::shared_ptr<Engine> tiny_engine();

}  // namespace mobilellm::test
