// libFuzzer entry point over parse_safetensors. The same function is replayed
// by tests/io (built with g++) over the seed corpus and deterministic mutations.
//
// A rejected input must come back as mobilellm::Error; any other exception
// escapes and counts as a crash. An accepted input must describe tensors that
// lie inside the buffer and agree with their shapes.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "io/safetensors.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mobilellm::io::TensorEntry;
  std::map<std::string, TensorEntry> tensors;
  std::map<std::string, std::string> metadata;
  try {
    mobilellm::io::parse_safetensors(data, size, "fuzz.safetensors", tensors, &metadata);
  } catch (const mobilellm::Error&) {
    return 0;
  }
  for (const auto& [name, e] : tensors) {
    const size_t offset = static_cast<size_t>(e.data - data);
    if (e.data < data || offset > size || e.nbytes > size - offset) std::abort();
    if (e.numel() < 0 || (e.numel() == 0) != (e.nbytes == 0)) std::abort();
    // Touch both ends so AddressSanitizer sees any escape from the buffer.
    if (e.nbytes > 0) {
      volatile uint8_t sink = e.data[0];
      sink = e.data[e.nbytes - 1];
      (void)sink;
    }
  }
  return 0;
}
