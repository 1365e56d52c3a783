#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "io/safetensors.h"
#include "io/safetensors_format.h"
#include "runtime/error.h"

namespace mobilellm::io {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_io(const fs::path& path, const char* what, int err) {
  throw Error(path.string() + ": " + what + ": " + std::generic_category().message(err));
}

// Writes to "<file>.tmp" and renames on success, so a failed or interrupted
// write never leaves a truncated checkpoint under the final name.
class AtomicFile {
 public:
  explicit AtomicFile(const fs::path& file) : file_(file), tmp_(file.string() + ".tmp") {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_io(tmp_, "cannot create", errno);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      ssize_t k = ::write(fd_, p, n);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) fail_io(tmp_, "write failed", errno);
      p += k;
      n -= static_cast<size_t>(k);
    }
  }

  void commit() {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_io(tmp_, "write failed", errno);
    if (::rename(tmp_.c_str(), file_.c_str()) != 0) fail_io(file_, "cannot rename the finished file into place", errno);
    committed_ = true;
  }

 private:
  fs::path file_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

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

  AtomicFile out(file);
  out.write(len, sizeof len);
  out.write(text.data(), text.size());
  for (const TensorToWrite* t : order) out.write(t->data, t->nbytes);
  out.commit();
}

}  // namespace mobilellm::io
