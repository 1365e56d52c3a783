#include "engine/model_assets.h"

#include <unistd.h>

#include <atomic>
#include <fstream>

#include "runtime/error.h"

namespace mobilellm {

bool model_has_tokenizer(const model::Model& model) {
  if (const format::ModelFile* file = model.file()) return !file->index().blobs.empty();
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (std::filesystem::exists(model.path() / name)) return true;
  return false;
}

// A model file's tokenizer files are written to a scratch directory that
// Tokenizer::load reads, then removed.
Tokenizer load_model_tokenizer(const model::Model& model, const std::filesystem::path& given) {
  if (!given.empty()) return Tokenizer::load(given);
  if (!model_has_tokenizer(model))
    throw Error(model.path().string() + " carries no tokenizer.json or tokenizer.model: pass --tokenizer PATH");
  const format::ModelFile* file = model.file();
  if (!file) return Tokenizer::load(model.path());
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mobilellm-tokenizer-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};
  for (const auto& blob : file->index().blobs) {
    const std::filesystem::path name(blob.name);
    if (name.has_parent_path() || name.filename() != name || blob.name == ".." || blob.name == ".")
      throw Error(model.path().string() + ": tokenizer file name \"" + blob.name + "\" is not a plain file name");
    std::ofstream out(dir / name, std::ios::binary);
    const std::string bytes = file->blob(blob);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error((dir / name).string() + ": cannot write");
  }
  return Tokenizer::load(dir);
}

bool model_has_random_weights(const model::Model& model) {
  if (const format::ModelFile* file = model.file()) {
    const auto& source = file->index().source;  // written by `mobilellm convert`
    return source.is_object() && source.value("random_weights", false);
  }
  return std::filesystem::exists(model.path() / "random_weights.txt");
}

}  // namespace mobilellm
