#pragma once
// Models from the Hugging Face cache that `mobilellm pull` and huggingface_hub
// share (docs/HUB.md).
#include <filesystem>
#include <optional>
#include <string>

namespace mobilellm {

// Whether `text` has the form of a Hub model name ORG/NAME[:SELECTOR].
bool is_hub_model_name(const std::string& text);
// What to load for a Hub model ORG/NAME[:SELECTOR] already in the cache
// (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub): its model
// file or directory. Nothing when `ref` is not such a name or not cached.
std::optional<std::filesystem::path> find_cached_model(const std::string& ref);
// The cache find_cached_model looks in.
std::filesystem::path hub_cache_dir();

}  // namespace mobilellm
