#include "tiny_engine.h"

#include <unistd.h>

#include "convert/convert.h"
#include "model/random_checkpoint.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm::test {

std::shared_ptr<Engine> tiny_engine() {
  static std::shared_ptr<Engine> engine = [] {
    const auto dir = std::filesystem::temp_directory_path() / ("mobilellm-engine-test-" + std::to_string(getpid()));
    model::write_random_checkpoint(model::preset_config("tiny"), dir, 7);
    install_tokenizer_files(MOBILELLM_TOKENIZER_DIR, dir);
    EngineOptions options;
    options.model = dir;
    options.threads = 2;
    auto loaded = Engine::load(options);
    std::filesystem::remove_all(dir);  // the weights stay mapped
    return loaded;
  }();
  return engine;
}

EngineOptions write_tiny_q4(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  model::write_random_checkpoint(model::preset_config("tiny"), dir / "ckpt", 7);
  install_tokenizer_files(MOBILELLM_TOKENIZER_DIR, dir / "ckpt");
  convert::ConvertOptions convert;
  convert.input = dir / "ckpt";
  convert.output = dir / "model.q4g32";
  convert::convert_checkpoint(convert);
  EngineOptions options;
  options.model = convert.output;
  options.tokenizer = dir / "ckpt";
  options.threads = 2;
  options.prefill_chunk = 8;
  return options;
}

std::shared_ptr<Engine> q4_engine() {
  static std::shared_ptr<Engine> engine = [] {
    const auto dir = std::filesystem::temp_directory_path() / ("mobilellm-q4-engine-test-" + std::to_string(getpid()));
    auto loaded = Engine::load(write_tiny_q4(dir));
    std::filesystem::remove_all(dir);  // the weights stay mapped
    return loaded;
  }();
  return engine;
}

}  // namespace mobilellm::test
