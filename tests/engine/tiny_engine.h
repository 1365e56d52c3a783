#pragma once
// Tiny random checkpoints with the real Llama-4 tokenizer, written once per
// test binary, and Engines on them.
#include <filesystem>
#include <memory>

#include "mobilellm/engine.h"

namespace mobilellm::test {

std::shared_ptr<Engine> tiny_engine();
// The tiny preset converted to q4g32 (int4 matrices, int8 KV cache: every
// row's numbers are exact whatever the batch), with prompt chunks of 8 tokens,
// so prompts take several steps and both prompts and answers cross the sliding
// window of 16.
std::shared_ptr<Engine> q4_engine();
// Writes what q4_engine() loads into `dir`: the tiny checkpoint at dir/ckpt
// and its q4g32 conversion; returns the options that load the latter.
EngineOptions write_tiny_q4(const std::filesystem::path& dir);

}  // namespace mobilellm::test
