#pragma once
// Which files of a repo make the model that ORG/NAME[:SELECTOR] names, used
// on the Hub's file list before a pull and on a cached snapshot offline.
//   no selector   the checkpoint at the repo's root (config.json, safetensors,
//                 tokenizer and generation files); for a repo of subfolders
//                 such as MobileLLM-Pro's base/ and instruct/, "instruct", or
//                 the only one; for a GGUF repo, the Q4_K_M file or the only one
//   a subfolder   that checkpoint ("facebook/MobileLLM-Pro:base")
//   a GGUF file   by name or by quantization tag, as llama.cpp's -hf does
//                 ("org/name:Q8_0"), with every part of a split file
#include <string>
#include <vector>

namespace mobilellm::hub {

struct ModelRef {
  std::string repo;      // "ORG/NAME"
  std::string selector;  // "" or what follows the ':'
};

// "ORG/NAME" or "ORG/NAME:SELECTOR" with a valid repo id (huggingface_hub's
// validate_repo_id rules); false for anything else (a local path, say).
bool parse_model_ref(const std::string& text, ModelRef& out);

struct Selection {
  std::vector<std::string> files;  // repo paths to download
  std::string model_path;          // in the snapshot: "" (root), a subfolder, or a .gguf file
};

// Throws Error naming what the repo holds when nothing fits. `include` globs
// (fnmatch, as huggingface_hub's allow_patterns) replace the automatic file
// choice; the model path still follows the selector.
Selection select_files(const std::string& repo, const std::vector<std::string>& files, const std::string& selector,
                       const std::vector<std::string>& include = {});

}  // namespace mobilellm::hub
