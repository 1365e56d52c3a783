#include "model/model.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "runtime/error.h"

namespace mobilellm::model {

Model::Model(std::filesystem::path path, Checkpoint checkpoint)
    : path_(std::move(path)),
      config_(std::move(checkpoint.config)),
      generation_(std::move(checkpoint.generation)),
      archive_(std::move(checkpoint.tensors)),
      gguf_(std::move(checkpoint.gguf)),
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
    config.int8_kv_cache = file->index().kv_cache == format::KvCacheType::kInt8;
    apply(options, config);
    return std::shared_ptr<const Model>(new Model(path, std::move(config), std::move(generation), std::move(file)));
  }
  if (options.verify)
    throw Error(path.string() +
                ": checkpoint directories and GGUF files carry no checksums to verify; --verify is for "
                "model files (mobilellm convert)");
  Checkpoint checkpoint = open_checkpoint(path);
  apply(options, checkpoint.config);
  return std::shared_ptr<const Model>(new Model(path, std::move(checkpoint)));
}

}  // namespace mobilellm::model
