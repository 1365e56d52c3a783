// Test helper for reference_test.py, which checks the GGUF reader against the
// `gguf` Python package (its GGUFWriter, GGUFReader and quants.dequantize):
//   gguf_tool info PATH        JSON: version, alignment, every metadata value and tensor info
//   gguf_tool dequantize PATH  every tensor's dequantized values as raw float32, in file order
// Strings travel as hex so that any bytes compare exactly. A value an accessor
// rejects (a u64 above INT64_MAX) is reported as {"error": message}.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/gguf.h"
#include "runtime/error.h"

namespace {

using mobilellm::io::GgufValue;
using mobilellm::io::GgufValueType;

std::string hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

nlohmann::json value_json(const GgufValue& v) {
  try {
    GgufValueType t = v.type() == GgufValueType::kArray ? v.array_type() : v.type();
    const bool array = v.type() == GgufValueType::kArray;
    switch (t) {
      case GgufValueType::kFloat32:
      case GgufValueType::kFloat64:
        if (!array) return v.as_float();
        return v.as_float_array();  // f64 arrays come back rounded to float, as documented
      case GgufValueType::kBool:
        if (!array) return v.as_bool();
        return v.as_bool_array();
      case GgufValueType::kString: {
        if (!array) return hex(v.as_string());
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : v.as_string_array()) out.push_back(hex(s));
        return out;
      }
      default:
        if (!array) return v.as_int();
        return v.as_int_array();
    }
  } catch (const mobilellm::Error& e) {
    return {{"error", e.what()}};
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mobilellm::io;
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (argc != 3 || (cmd != "info" && cmd != "dequantize")) {
    std::cerr << "usage: gguf_tool info|dequantize PATH\n";
    return 2;
  }
  try {
    const auto file = GgufFile::open(argv[2]);
    if (cmd == "info") {
      nlohmann::json out = {{"version", file->version()},
                            {"alignment", file->alignment()},
                            {"data_offset", file->data_offset()},
                            {"metadata", nlohmann::json::array()},
                            {"tensors", nlohmann::json::array()}};
      for (const auto& v : file->metadata()) {
        nlohmann::json e = {{"key", hex(v.key())}, {"type", v.type_description()}, {"value", value_json(v)}};
        if (v.type() == GgufValueType::kArray) e["size"] = v.array_size();
        out["metadata"].push_back(e);
      }
      for (const auto& t : file->tensors()) {
        out["tensors"].push_back({{"name", hex(t.name)},
                                  {"type", ggml_type_name(t.type)},
                                  {"ne", t.ne},
                                  {"offset", t.offset},
                                  {"nbytes", t.nbytes},
                                  {"elements", t.elements()}});
      }
      std::cout << out.dump() << "\n";
    } else {
      for (const auto& t : file->tensors()) {
        const auto values = dequantize(t);
        std::fwrite(values.data(), sizeof(float), values.size(), stdout);
      }
    }
  } catch (const mobilellm::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
