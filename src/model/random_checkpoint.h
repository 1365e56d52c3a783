#pragma once
// Writes a complete Hugging Face checkpoint directory with random weights:
// for trying the engine, for benchmarks at full size, and for tests. Weights
// are approximately normal with std 0.02 (transformers' initializer_range),
// norms are 1, so activations and logits stay in a sane range.
#include <cstdint>
#include <filesystem>
#include <string>

#include "model/config.h"

namespace mobilellm::model {

// "pro": the full MobileLLM-Pro shape (1,084,453,120 parameters);
// "tiny": the same layer pattern and vocabulary at a tiny width.
ModelConfig preset_config(const std::string& preset);

// Writes config.json, generation_config.json and model.safetensors (bf16).
void write_random_checkpoint(const ModelConfig& config, const std::filesystem::path& dir, uint64_t seed);

}  // namespace mobilellm::model
