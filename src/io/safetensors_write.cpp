#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "io/atomic_output.h"
#include "io/safetensors.h"
#include "io/safetensors_format.h"
#include "runtime/error.h"

namespace mobilellm::io {

namespace fs = std::filesystem;

void write_safetensors(const fs::path& file, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  auto fail = [&](const std::string& name, const std::string& what) {
    throw Error(file.string() + ": cannot write tensor " + json_quoted(name) + ": " + what);
  };
  // Widest elements first, as the official writer orders them: every tensor then
  // starts at a multiple of its element size, so readers may use it in place.
  std::vector<const TensorToWrite*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    return safetensors_dtype_bits(a->dtype) > safetensors_dtype_bits(b->dtype);
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorToWrite* t : order) {
    if (t->name == "__metadata__" || !names.insert(t->name).second) fail(t->name, "the name is reserved or repeated");
    const int bits = safetensors_dtype_bits(t->dtype);
    if (bits == 0) fail(t->name, "unknown dtype " + json_quoted(t->dtype));
    if (std::any_of(t->shape.begin(), t->shape.end(), [](int64_t d) { return d < 0; }))
      fail(t->name, "negative dimension in shape " + format_shape(t->shape));
    auto numel = checked_numel(t->shape);
    auto total_bits = numel ? checked_bits(*numel, bits) : std::nullopt;
    if (!total_bits || *total_bits % 8 != 0 || *total_bits / 8 != t->nbytes)
      fail(t->name, std::to_string(t->nbytes) + " bytes given for shape " + format_shape(t->shape) + " of " + t->dtype);
    if (t->nbytes > 0 && t->data == nullptr) fail(t->name, "no data");
    header[t->name] = {{"dtype", t->dtype}, {"shape", t->shape}, {"data_offsets", {offset, offset + t->nbytes}}};
    offset += t->nbytes;
  }

  // Padded with spaces to a multiple of 8 bytes, as the official writer does, so
  // the data area starts 8-byte aligned.
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::type_error&) {
    throw Error(file.string() + ": cannot write: a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  AtomicOutput out(file);
  out.write(len, sizeof len);
  out.write(text.data(), text.size());
  for (const TensorToWrite* t : order) out.write(t->data, t->nbytes);
  out.commit();
}

}  // namespace mobilellm::io
