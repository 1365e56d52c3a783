#include "engine/model_assets.h"

#include <map>
#include <string>

#include "runtime/error.h"

namespace mobilellm {

bool model_has_tokenizer(const model::Model& model) {
  if (const format::ModelFile* file = model.file()) return !file->index().blobs.empty();
  if (const io::GgufFile* gguf = model.gguf()) return gguf->find("tokenizer.ggml.model") != nullptr;
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (std::filesystem::exists(model.path() / name)) return true;
  return false;
}

Tokenizer load_model_tokenizer(const model::Model& model, const std::filesystem::path& given) {
  if (!given.empty()) return Tokenizer::load(given);
  if (!model_has_tokenizer(model))
    throw Error(
        model.path().string() +
        " carries no tokenizer (tokenizer.json, tokenizer.model or GGUF tokenizer.* metadata): pass --tokenizer PATH");
  const format::ModelFile* file = model.file();
  if (!file) return Tokenizer::load(model.path());
  std::map<std::string, std::string> files;
  for (const auto& blob : file->index().blobs) files[blob.name] = file->blob(blob);
  return Tokenizer::load_files(model.path().string(), files);
}

bool model_has_random_weights(const model::Model& model) {
  if (const format::ModelFile* file = model.file()) {
    const auto& source = file->index().source;  // written by `mobilellm convert`
    return source.is_object() && source.value("random_weights", false);
  }
  return std::filesystem::exists(model.path() / "random_weights.txt");
}

}  // namespace mobilellm
