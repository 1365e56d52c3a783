#pragma once
// A loaded model: config, validated weights (memory-mapped) and the RoPE
// table. Immutable after loading, so any number of sessions can share it.
#include <filesystem>
#include <memory>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/rope.h"
#include "model/weights.h"

namespace mobilellm::model {

class Model {
 public:
  // dir: a Hugging Face checkpoint directory (config.json + safetensors).
  static std::shared_ptr<const Model> load(const std::filesystem::path& dir);

  const ModelConfig& config() const { return config_; }
  const GenerationDefaults& generation_defaults() const { return generation_; }
  const ModelWeights& weights() const { return weights_; }
  const RopeTable& rope() const { return rope_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  Model(std::filesystem::path path, ModelConfig config, GenerationDefaults generation, io::SafetensorsArchive archive);

  std::filesystem::path path_;
  ModelConfig config_;
  GenerationDefaults generation_;
  io::SafetensorsArchive archive_;  // owns the mappings the weights point into
  ModelWeights weights_;
  RopeTable rope_;
};

}  // namespace mobilellm::model
