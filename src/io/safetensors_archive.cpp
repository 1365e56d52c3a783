#include <nlohmann/json.hpp>
#include <set>

#include "io/safetensors.h"
#include "io/safetensors_format.h"
#include "runtime/error.h"

namespace mobilellm::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// weight_map of a Hugging Face shard index, grouped by shard: shard file -> tensor names.
std::map<std::string, std::set<std::string>> read_index(const fs::path& index) {
  const MappedFile file(index);
  const auto* text = reinterpret_cast<const char*>(file.data());
  json doc;
  try {
    doc = json::parse(text, text + file.size());
  } catch (const json::exception& e) {
    throw Error(index.string() + ": not valid JSON: " + json_error_text(e));
  }
  if (!doc.is_object() || !doc.contains("weight_map") || !doc["weight_map"].is_object())
    throw Error(index.string() + ": no \"weight_map\" object");
  std::map<std::string, std::set<std::string>> shards;
  for (const auto& [name, shard] : doc["weight_map"].items()) {
    if (!shard.is_string() || shard.get_ref<const std::string&>().empty())
      throw Error(index.string() + ": weight_map entry for tensor " + json_quoted(name) + " is not a file name");
    const fs::path rel(shard.get<std::string>());
    // The index is data: it must not reach files outside the checkpoint directory.
    bool escapes = rel.is_absolute();
    for (const auto& part : rel) escapes |= part == "..";
    if (escapes)
      throw Error(index.string() + ": shard " + json_quoted(rel.string()) + " for tensor " + json_quoted(name) +
                  " is outside the checkpoint directory");
    shards[rel.string()].insert(name);
  }
  return shards;
}

}  // namespace

SafetensorsArchive SafetensorsArchive::open(const fs::path& dir_or_file) {
  SafetensorsArchive archive;
  auto add_file = [&](const fs::path& path, std::map<std::string, TensorEntry>& into, bool keep_metadata) {
    archive.files_.push_back(std::make_unique<MappedFile>(path));
    const MappedFile& f = *archive.files_.back();
    parse_safetensors(f.data(), f.size(), path, into, keep_metadata ? &archive.metadata_ : nullptr);
  };

  std::error_code ec;
  const auto status = fs::status(dir_or_file, ec);
  if (status.type() == fs::file_type::not_found) throw Error(dir_or_file.string() + ": no such file or directory");
  if (ec) throw Error(dir_or_file.string() + ": " + ec.message());  // e.g. a parent without search permission
  fs::path index;
  if (fs::is_directory(status)) {
    if (fs::exists(dir_or_file / kSingleFile)) {
      add_file(dir_or_file / kSingleFile, archive.tensors_, true);
      return archive;
    }
    if (!fs::exists(dir_or_file / kIndexFile))
      throw Error(dir_or_file.string() + ": neither " + kSingleFile + " nor " + kIndexFile + " found");
    index = dir_or_file / kIndexFile;
  } else if (ends_with(dir_or_file.filename().string(), ".index.json")) {
    index = dir_or_file;
  } else {
    add_file(dir_or_file, archive.tensors_, true);
    return archive;
  }

  const auto shards = read_index(index);
  std::map<std::string, std::string> shard_of;  // tensor -> shard, for messages
  for (const auto& [shard, names] : shards) {
    for (const auto& name : names) shard_of[name] = shard;
  }
  for (const auto& [shard, names] : shards) {
    const fs::path path = index.parent_path() / shard;
    if (!fs::exists(path))
      throw Error(index.string() + ": shard " + json_quoted(shard) + " (holding tensor " + json_quoted(*names.begin()) +
                  ") not found: " + path.string());
    std::map<std::string, TensorEntry> found;
    add_file(path, found, archive.files_.empty());  // "__metadata__" of the first shard, as for one file
    for (const auto& name : names) {
      if (!found.count(name))
        throw Error(index.string() + ": tensor " + json_quoted(name) + " is mapped to shard " + json_quoted(shard) +
                    " but that file does not contain it");
    }
    for (const auto& [name, entry] : found) {
      auto listed = shard_of.find(name);
      if (listed == shard_of.end())
        throw Error(path.string() + ": tensor " + json_quoted(name) + " is not listed in " + index.filename().string());
      if (listed->second != shard)
        throw Error(index.string() + ": tensor " + json_quoted(name) + " is in shard " + json_quoted(shard) +
                    " but the index maps it to shard " + json_quoted(listed->second));
    }
    archive.tensors_.merge(found);
  }
  return archive;
}

void SafetensorsArchive::put(TensorEntry entry, std::shared_ptr<const void> owner) {
  if (owner) owners_.push_back(std::move(owner));
  std::string name = entry.name;
  tensors_.insert_or_assign(std::move(name), std::move(entry));
}

const TensorEntry* SafetensorsArchive::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace mobilellm::io
