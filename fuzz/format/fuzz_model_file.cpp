// libFuzzer entry point over parse_model_file; tests/format replays
// deterministic mutations of a valid file through the same function (g++).
//
// A rejected input must come back as mobilellm::Error; anything else escaping
// counts as a crash. An accepted input must describe entries inside the buffer.
#include <cstdint>
#include <cstdlib>

#include "format/model_file.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mobilellm::format::ModelFileIndex index;
  try {
    index = mobilellm::format::parse_model_file(data, size, "fuzz.mllm");
  } catch (const mobilellm::Error&) {
    return 0;
  }
  for (const auto& t : index.tensors) {
    if (t.offset > size || t.bytes > size - t.offset) std::abort();
    if (t.bytes > 0) {
      volatile uint8_t sink = data[t.offset];
      sink = data[t.offset + t.bytes - 1];
      (void)sink;
    }
  }
  for (const auto& b : index.blobs)
    if (b.offset > size || b.bytes > size - b.offset) std::abort();
  return 0;
}
