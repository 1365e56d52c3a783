// Test helper for python_interop.py, which checks our reader and writer against
// the official safetensors package:
//   safetensors_tool dump PATH       JSON: metadata and every tensor's dtype, shape and bytes (hex)
//   safetensors_tool copy SRC DST    reads SRC (file, directory or index) and rewrites it with write_safetensors
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors.h"
#include "runtime/error.h"

namespace {

std::string hex(const uint8_t* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mobilellm::io;
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (!((cmd == "dump" && argc == 3) || (cmd == "copy" && argc == 4))) {
    std::cerr << "usage: safetensors_tool dump PATH | copy SRC DST\n";
    return 2;
  }
  try {
    const auto archive = SafetensorsArchive::open(argv[2]);
    if (cmd == "dump") {
      nlohmann::json out = {{"metadata", archive.metadata()}, {"tensors", nlohmann::json::object()}};
      for (const auto& [name, e] : archive.tensors())
        out["tensors"][name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"hex", hex(e.data, e.nbytes)}};
      std::cout << out.dump() << "\n";
    } else {
      std::vector<TensorToWrite> tensors;
      for (const auto& [name, e] : archive.tensors()) tensors.push_back({name, e.dtype, e.shape, e.data, e.nbytes});
      write_safetensors(argv[3], tensors, archive.metadata());
    }
  } catch (const mobilellm::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
