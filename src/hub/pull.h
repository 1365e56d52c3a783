#pragma once
// `mobilellm pull`: a model from the Hub into the shared cache, and finding
// it there again without the network.
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hub/select.h"

namespace mobilellm::hub {

struct PullEvents {
  // The commit and the number of files the pull will fetch.
  std::function<void(const std::string& commit, size_t files)> begin;
  std::function<void(const std::string& path, uint64_t done, uint64_t total)> progress;
  // `downloaded` false: the file was already in the cache.
  std::function<void(const std::string& path, bool downloaded)> file_done;
};

struct PullOptions {
  ModelRef ref;
  std::string revision = "main";
  std::vector<std::string> include;
  std::string token;     // sent to the Hub's host only
  std::string endpoint;  // HF_ENDPOINT's form: "https://huggingface.co"
  std::filesystem::path cache_dir;
  const std::atomic<bool>* cancel = nullptr;
  PullEvents events;
};

struct PullResult {
  std::string commit;
  std::filesystem::path snapshot;  // snapshots/<commit>
  std::filesystem::path model;     // what -m loads: the snapshot, a subfolder, or a .gguf file
  std::vector<std::string> files;
  size_t downloaded = 0;  // files fetched now (the rest were cached)
};

// Downloads what `options.ref` names. Throws Error (HubError for HTTP errors,
// Interrupted when the cancel flag stops it).
PullResult pull(const PullOptions& options);

// The model `ref` names at `revision`, from the cache alone; nothing when it
// is not there.
std::optional<PullResult> find_cached(const std::filesystem::path& cache_dir, const ModelRef& ref,
                                      const std::string& revision = "main");

}  // namespace mobilellm::hub
