#include "model/model.h"

#include "runtime/error.h"

namespace mobilellm::model {

Model::Model(std::filesystem::path path, ModelConfig config, GenerationDefaults generation,
             io::SafetensorsArchive archive)
    : path_(std::move(path)),
      config_(std::move(config)),
      generation_(std::move(generation)),
      archive_(std::move(archive)),
      weights_(bind_weights(archive_, config_)),
      rope_(config_) {}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw Error(dir.string() + ": not a directory");
  ModelConfig config = load_model_config(dir);
  GenerationDefaults generation = load_generation_config(dir);
  io::SafetensorsArchive archive = io::SafetensorsArchive::open(dir);
  return std::shared_ptr<const Model>(new Model(dir, std::move(config), std::move(generation), std::move(archive)));
}

}  // namespace mobilellm::model
