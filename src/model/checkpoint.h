#pragma once
// Opens what a user passes as a model to load or convert: a Hugging Face
// checkpoint directory (Llama-4 / MobileLLM-Pro, or LlamaForCausalLM) or a GGUF
// file (architectures llama and dense llama4), as one config and one tensor
// table under Hugging Face names with q/k rows in the engine's interleaved
// RoPE pair order.
#include <filesystem>
#include <map>
#include <memory>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/config.h"

namespace mobilellm::model {

struct Checkpoint {
  ModelConfig config;
  GenerationDefaults generation;
  io::SafetensorsArchive tensors;
  std::shared_ptr<const io::GgufFile> gguf;  // set when the checkpoint is a GGUF file
  // A GGUF file's tensors by their Hugging Face names (their stored blocks).
  std::map<std::string, const io::GgufTensor*> gguf_tensors;
};

Checkpoint open_checkpoint(const std::filesystem::path& path);

// The config a GGUF file's metadata describes (llama.cpp's reading of it).
ModelConfig gguf_model_config(const io::GgufFile& file);

}  // namespace mobilellm::model
