// `mobilellm verify`: checks every checksum of a model file (index, tensors,
// blobs) and names the first corrupt tensor.
#include <cstdio>

#include "commands.h"
#include "format/model_file.h"
#include "runtime/error.h"
#include "runtime/timer.h"

namespace mobilellm::cli {

void add_verify_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("verify", "Check every checksum of a model file (mobilellm convert)");
  cmd->add_option("-m,--model", *path, "Model file")->required();
  cmd->callback([path] {
    Timer timer;
    if (!format::is_model_file(*path)) throw Error(*path + ": not a mobilellm model file (no checksums to verify)");
    const auto file = format::ModelFile::open(*path);  // checks the header and the index checksum
    file->verify_data();
    const auto& index = file->index();
    std::printf("%s: ok, %zu tensors and %zu blobs verified (%.1f MB in %.1f s)\n", path->c_str(), index.tensors.size(),
                index.blobs.size(), static_cast<double>(file->size()) / 1e6, timer.seconds());
  });
}

}  // namespace mobilellm::cli
