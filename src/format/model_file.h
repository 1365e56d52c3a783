#pragma once
// The mobilellm model file (docs/FORMAT.md): one file holding the config,
// the tokenizer files and every tensor, tensors page-aligned and stored in the
// layout the kernels read, so loading is a memory map and nothing is repacked.
//
//   [64-byte header][tensor and blob data, each at a 4096-byte boundary][index JSON]
//
// The reader validates the header, the index checksum and every entry (type,
// shape, byte count, bounds, overlaps) before handing anything out; each
// violation is an Error naming the file and the entry.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/atomic_output.h"
#include "format/scheme.h"
#include "io/mapped_file.h"
#include "quant/q4_matrix.h"

namespace mobilellm::format {

constexpr char kMagic[8] = {'M', 'O', 'B', 'I', 'L', 'E', 'L', 'M'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kAlignment = 4096;

enum class TensorType : uint8_t { kF32, kBF16, kF16, kQ4G32, kQ4CW, kQ4_1 };
const char* tensor_type_name(TensorType type);  // "f32", "bf16", "f16", and the int4 schemes' names
// The int4 layout of an int4 type (q4_matrix.h), or nullopt for a float type.
std::optional<quant::Q4Scheme> q4_scheme(TensorType type);
// Bytes a tensor of this type and shape occupies; throws Error for a shape the type cannot hold.
uint64_t tensor_bytes(TensorType type, const std::vector<int64_t>& shape, const std::string& name);

struct TensorInfo {
  std::string name;
  TensorType type = TensorType::kF32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // from the start of the file
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

// Opaque files carried along (the tokenizer's).
struct BlobInfo {
  std::string name;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

// Everything the index says, validated against a file of `file_bytes`.
struct ModelFileIndex {
  Scheme scheme = Scheme::kF32;
  // "kv_cache"; a file without it gets its scheme's default_kv_cache().
  KvCacheType kv_cache = KvCacheType::kF32;
  nlohmann::json config;      // the checkpoint's config.json
  nlohmann::json generation;  // its generation_config.json, or null
  nlohmann::json source;      // where it came from (informational)
  std::vector<TensorInfo> tensors;
  std::vector<BlobInfo> blobs;
};

// Parses and validates a whole file image (also the fuzz entry point).
// `where` names the file in messages.
ModelFileIndex parse_model_file(const uint8_t* data, size_t size, const std::string& where);

// True when the file starts with the model file magic (to tell it from a checkpoint directory).
bool is_model_file(const std::filesystem::path& path);

class ModelFile {
 public:
  static std::shared_ptr<const ModelFile> open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  const ModelFileIndex& index() const { return index_; }
  const TensorInfo* find(const std::string& name) const;  // nullptr if absent
  const uint8_t* bytes() const { return file_.data(); }   // the whole mapping
  size_t size() const { return file_.size(); }
  const uint8_t* data(const TensorInfo& t) const { return file_.data() + t.offset; }
  const BlobInfo* find_blob(const std::string& name) const;
  std::string blob(const BlobInfo& b) const;
  // Recomputes every tensor's and blob's checksum (reads the whole file);
  // throws Error naming the first one that does not match.
  void verify_data() const;

 private:
  ModelFile(io::MappedFile file, ModelFileIndex index) : file_(std::move(file)), index_(std::move(index)) {}
  io::MappedFile file_;
  ModelFileIndex index_;
};

// Writes a model file: tensors and blobs are streamed to a temporary beside
// `path` (io::AtomicOutput) as they come, the index and header last; finish()
// renames it into place, so an interrupted conversion never leaves a file that
// looks complete.
class ModelFileWriter {
 public:
  explicit ModelFileWriter(const std::filesystem::path& path);
  ~ModelFileWriter();
  ModelFileWriter(const ModelFileWriter&) = delete;
  ModelFileWriter& operator=(const ModelFileWriter&) = delete;

  void add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape, const void* data,
                  size_t bytes);
  void add_blob(const std::string& name, const void* data, size_t bytes);
  void finish(Scheme scheme, KvCacheType kv_cache, const nlohmann::json& config, const nlohmann::json& generation,
              const nlohmann::json& source);
  uint64_t bytes_written() const { return end_; }

 private:
  uint64_t append_aligned(const void* data, size_t bytes);

  io::AtomicOutput out_;
  uint64_t end_ = 0;
  ModelFileIndex index_;
};

}  // namespace mobilellm::format
