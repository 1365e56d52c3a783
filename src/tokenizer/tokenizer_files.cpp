#include <filesystem>

#include "runtime/error.h"
#include "tokenizer/loaders.h"

namespace mobilellm::tokenizer {

bool TokenizerFiles::has(const std::string& name) const {
  return files_ ? files_->contains(name) : std::filesystem::exists(dir_ / name);
}

std::string TokenizerFiles::read(const std::string& name) const {
  if (!files_) return read_file(dir_ / name);
  auto it = files_->find(name);
  if (it == files_->end()) throw Error(where(name) + ": no such file");
  return it->second;
}

std::string TokenizerFiles::where(const std::string& name) const {
  return files_ ? origin_ + " (" + name + ")" : (dir_ / name).string();
}

}  // namespace mobilellm::tokenizer
