#pragma once
// A loaded model: config, validated weights (memory-mapped) and the RoPE
// table. Immutable after loading, so any number of sessions can share it.
#include <filesystem>
#include <memory>

#include "format/model_file.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/rope.h"
#include "model/weights.h"

namespace mobilellm::model {

struct LoadOptions {
  // Every layer global (full attention), to measure what local-global attention buys.
  bool all_global = false;
  // A model file's tensor checksums are checked too, not only its index
  // (reads every byte once; a checkpoint directory has no checksums).
  bool verify = false;
};

class Model {
 public:
  // path: a Hugging Face checkpoint directory (config.json + safetensors), a
  // GGUF file, or a model file written by `mobilellm convert` (docs/FORMAT.md).
  static std::shared_ptr<const Model> load(const std::filesystem::path& path, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const GenerationDefaults& generation_defaults() const { return generation_; }
  const ModelWeights& weights() const { return weights_; }
  const RopeTable& rope() const { return rope_; }
  const std::filesystem::path& path() const { return path_; }
  // The model file, or nullptr for a checkpoint directory.
  const format::ModelFile* file() const { return file_.get(); }
  // The GGUF file, or nullptr for other sources.
  const io::GgufFile* gguf() const { return gguf_.get(); }

 private:
  Model(std::filesystem::path path, Checkpoint checkpoint);
  Model(std::filesystem::path path, ModelConfig config, GenerationDefaults generation,
        std::shared_ptr<const format::ModelFile> file);

  std::filesystem::path path_;
  ModelConfig config_;
  GenerationDefaults generation_;
  io::SafetensorsArchive archive_;                 // owns the mappings the weights point into
  std::shared_ptr<const io::GgufFile> gguf_;       // or this one does
  std::shared_ptr<const format::ModelFile> file_;  // or this one does
  ModelWeights weights_;
  RopeTable rope_;
};

}  // namespace mobilellm::model
