// `mobilellm pull`: a model from the Hugging Face Hub into the cache that
// huggingface_hub shares (docs/HUB.md).
#include <cstdio>

#include "commands.h"
#include "hub/cache.h"
#include "hub/client.h"
#include "pull_progress.h"
#include "runtime/error.h"

namespace mobilellm::cli {

void add_pull_command(CLI::App& app) {
  struct Options {
    std::string ref, revision = "main", token;
    std::vector<std::string> include;
    bool quiet = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "pull", "Download a model from the Hugging Face Hub into the cache shared with huggingface_hub; prints its path");
  cmd->add_option("model", opts->ref,
                  "ORG/NAME[:SELECTOR]: SELECTOR picks a subfolder (facebook/MobileLLM-Pro:base) or a GGUF file by "
                  "name or quantization (org/name:Q4_K_M)")
      ->required();
  cmd->add_option("--revision", opts->revision, "Branch, tag or commit")->capture_default_str();
  cmd->add_option("--include", opts->include,
                  "Download the files matching this glob instead of the automatic choice (repeatable)");
  cmd->add_option("--token", opts->token,
                  "Hub access token (default: HF_TOKEN, else the token file of huggingface_hub)");
  cmd->add_flag("-q,--quiet", opts->quiet, "No progress output");
  cmd->footer(
      "Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN, HF_TOKEN_PATH, HF_HOME, HF_HUB_CACHE\n"
      "(default ~/.cache/huggingface/hub), HF_HUB_OFFLINE=1 (no network: only report what is cached), and the\n"
      "proxy variables https_proxy, http_proxy, no_proxy.");
  cmd->callback([opts] {
    hub::PullOptions o;
    if (!hub::parse_model_ref(opts->ref, o.ref))
      throw Error("\"" + opts->ref + "\" is not a Hub model name of the form ORG/NAME or ORG/NAME:SELECTOR");
    o.revision = opts->revision;
    o.include = opts->include;
    o.cache_dir = hub::default_cache_dir();
    hub::PullResult result;
    if (hub::offline_mode()) {
      auto cached = hub::find_cached(o.cache_dir, o.ref, o.revision);
      if (!cached)
        throw Error(opts->ref + " is not in the cache (" + o.cache_dir.string() +
                    ") and HF_HUB_OFFLINE is set: unset it to download");
      result = *cached;
    } else {
      o.token = opts->token.empty() ? hub::default_token() : opts->token;
      o.endpoint = hub::default_endpoint();
      result = pull_with_progress(o, opts->quiet);
    }
    if (!opts->quiet)
      std::fprintf(stderr, "%s: %zu files at commit %s (%zu downloaded now)\n", opts->ref.c_str(), result.files.size(),
                   result.commit.c_str(), result.downloaded);
    std::printf("%s\n", result.model.c_str());
  });
}

}  // namespace mobilellm::cli
