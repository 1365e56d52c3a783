#include "model/model.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>

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

Model::Model(std::filesystem::path path, ModelConfig config, GenerationDefaults generation,
             std::shared_ptr<const format::ModelFile> file)
    : path_(std::move(path)),
      config_(std::move(config)),
      generation_(std::move(generation)),
      file_(std::move(file)),
      weights_(bind_file_weights(*file_, config_)),
      rope_(config_) {}

namespace {

void apply(const LoadOptions& options, ModelConfig& config) {
  if (options.all_global)
    for (auto& layer : config.layers) layer.attention = AttentionKind::kFull;
}

}  // namespace

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, const LoadOptions& options) {
  // Say what is wrong with the path itself before guessing what it should hold.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status))
    throw Error(path.string() + ": " + (ec ? ec.message() : "no such file or directory") +
                " (expected a checkpoint directory or a mobilellm model file)");
  if (::access(path.c_str(), R_OK) != 0)
    throw Error(path.string() + ": cannot read: " + std::generic_category().message(errno));
  if (format::is_model_file(path)) {
    auto file = format::ModelFile::open(path);
    if (options.verify) file->verify_data();
    const std::string where = path.string() + ": config";
    ModelConfig config = parse_model_config(file->index().config, where);
    const auto& gen = file->index().generation;
    GenerationDefaults generation = gen.is_null() ? GenerationDefaults{} : parse_generation_config(gen, where);
    config.int8_kv_cache = file->index().scheme == "q4g32";
    apply(options, config);
    return std::shared_ptr<const Model>(new Model(path, std::move(config), std::move(generation), std::move(file)));
  }
  if (!std::filesystem::is_directory(path))
    throw Error(path.string() + ": neither a checkpoint directory nor a mobilellm model file");
  if (options.verify)
    throw Error(path.string() + ": a checkpoint directory carries no checksums to verify; --verify is for model files "
                                "(mobilellm convert)");
  ModelConfig config = load_model_config(path);
  apply(options, config);
  GenerationDefaults generation = load_generation_config(path);
  io::SafetensorsArchive archive = io::SafetensorsArchive::open(path);
  return std::shared_ptr<const Model>(new Model(path, std::move(config), std::move(generation), std::move(archive)));
}

}  // namespace mobilellm::model
