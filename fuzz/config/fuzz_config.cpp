// libFuzzer target over the checkpoint's config.json and generation_config.json:
// the first input byte picks the file, the rest is its text. The text is read
// as the loader reads it (bounded JSON nesting), then validated. A rejected
// input must be a mobilellm::Error; an accepted config must describe a model
// whose sizes agree with each other.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mobilellm;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    nlohmann::json j = model::parse_config_json(text, "fuzz/config.json");
    if (data[0] % 2 == 0) {
      model::ModelConfig c = model::parse_model_config(j, "fuzz/config.json");
      if (c.hidden_size <= 0 || c.num_layers() <= 0 || c.vocab_size <= 0) std::abort();
      (void)model::model_config_to_json(c).dump();
    } else {
      (void)model::parse_generation_config(j, "fuzz/generation_config.json");
    }
  } catch (const Error&) {
  }
  return 0;
}
