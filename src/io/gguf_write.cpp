#include <cstring>

#include "io/gguf.h"

namespace mobilellm::io {
namespace {

class Out {
 public:
  template <typename T>
  void raw(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes_.append(b, sizeof(T));
  }
  void integer(GgufValueType type, int64_t v) {
    switch (gguf_value_type_size(type)) {
      case 1: raw(static_cast<uint8_t>(v)); break;
      case 2: raw(static_cast<uint16_t>(v)); break;
      case 4: raw(static_cast<uint32_t>(v)); break;
      default: raw(static_cast<uint64_t>(v)); break;
    }
  }
  void string(const std::string& s) {
    raw(static_cast<uint64_t>(s.size()));
    bytes_ += s;
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

bool is_integer(GgufValueType t) {
  return t != GgufValueType::kFloat32 && t != GgufValueType::kFloat64 && t != GgufValueType::kBool &&
         t != GgufValueType::kString && t != GgufValueType::kArray;
}

void value(Out& out, const GgufValue& v) {
  GgufValueType type = v.type();
  if (type == GgufValueType::kArray) {
    GgufValueType element = v.array_type();
    if (element == GgufValueType::kFloat64) element = GgufValueType::kFloat32;  // as_float_array rounds
    out.raw(static_cast<uint32_t>(GgufValueType::kArray));
    out.raw(static_cast<uint32_t>(element));
    out.raw(static_cast<uint64_t>(v.array_size()));
    if (element == GgufValueType::kString) {
      for (const auto& s : v.as_string_array()) out.string(s);
    } else if (element == GgufValueType::kFloat32) {
      for (float f : v.as_float_array()) out.raw(f);
    } else if (element == GgufValueType::kBool) {
      for (int64_t b : v.as_int_array()) out.raw(static_cast<uint8_t>(b != 0));
    } else {
      for (int64_t i : v.as_int_array()) out.integer(element, i);
    }
    return;
  }
  out.raw(static_cast<uint32_t>(type));
  if (type == GgufValueType::kString)
    out.string(v.as_string());
  else if (type == GgufValueType::kBool)
    out.raw(static_cast<uint8_t>(v.as_bool()));
  else if (type == GgufValueType::kFloat32)
    out.raw(static_cast<float>(v.as_float()));
  else if (type == GgufValueType::kFloat64)
    out.raw(v.as_float());
  else if (is_integer(type))
    out.integer(type, v.as_int());
}

}  // namespace

std::string gguf_metadata_subset(const GgufFile& file, std::string_view key_prefix) {
  std::vector<const GgufValue*> chosen;
  for (const GgufValue& v : file.metadata())
    if (v.key().starts_with(key_prefix)) chosen.push_back(&v);
  Out out;
  out.bytes() = "GGUF";
  out.raw(uint32_t{3});
  out.raw(uint64_t{0});  // tensors
  out.raw(static_cast<uint64_t>(chosen.size()));
  for (const GgufValue* v : chosen) {
    out.string(v->key());
    value(out, *v);
  }
  out.bytes().resize((out.bytes().size() + 31) / 32 * 32, '\0');  // the (empty) data section starts aligned
  return std::move(out.bytes());
}

}  // namespace mobilellm::io
