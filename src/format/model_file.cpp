#include "format/model_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "format/crc32c.h"
#include "io/json_fields.h"
#include "quant/q4_matrix.h"
#include "runtime/error.h"
#include "runtime/shape_text.h"

namespace mobilellm::format {
namespace {

using nlohmann::json;

uint32_t read_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t read_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

struct Header {
  uint32_t version, header_bytes, index_crc32c;
  uint64_t file_bytes, index_offset, index_bytes;
};

TensorType parse_type(const std::string& s, const JsonFields& f) {
  for (TensorType t : {TensorType::kF32, TensorType::kBF16, TensorType::kF16, TensorType::kQ4G32, TensorType::kQ4CW,
                       TensorType::kQ4_1})
    if (s == tensor_type_name(t)) return t;
  f.fail("has unknown type \"" + s + "\" (expected f32, bf16, f16, q4g32, q4cw or q4_1)");
}

// An entry's byte range must sit in the data area, aligned.
void check_range(uint64_t offset, uint64_t bytes, uint64_t data_end, const JsonFields& f) {
  if (offset % kAlignment != 0) f.fail("offset " + std::to_string(offset) + " is not a multiple of 4096");
  if (offset < kAlignment || offset > data_end || bytes > data_end - offset)
    f.fail("bytes [" + std::to_string(offset) + ", +" + std::to_string(bytes) + ") are outside the data area [4096, " +
           std::to_string(data_end) + ")");
}

}  // namespace

const char* tensor_type_name(TensorType type) {
  switch (type) {
    case TensorType::kF32: return "f32";
    case TensorType::kBF16: return "bf16";
    case TensorType::kF16: return "f16";
    // An int4 type is named as the scheme that writes it.
    case TensorType::kQ4G32: return scheme_name(Scheme::kQ4G32);
    case TensorType::kQ4CW: return scheme_name(Scheme::kQ4CW);
    case TensorType::kQ4_1: return scheme_name(Scheme::kQ4_1);
  }
  return "?";
}

std::optional<quant::Q4Scheme> q4_scheme(TensorType type) {
  switch (type) {
    case TensorType::kQ4G32: return quant::Q4Scheme::kGroup32;
    case TensorType::kQ4CW: return quant::Q4Scheme::kChannel;
    case TensorType::kQ4_1: return quant::Q4Scheme::kAffine32;
    case TensorType::kF32:
    case TensorType::kBF16:
    case TensorType::kF16: break;
  }
  return std::nullopt;
}

uint64_t tensor_bytes(TensorType type, const std::vector<int64_t>& shape, const std::string& name) {
  const std::optional<quant::Q4Scheme> scheme = q4_scheme(type);
  const bool q4 = scheme.has_value();
  if (shape.empty() || shape.size() > 2 || (q4 && shape.size() != 2))
    throw Error("tensor \"" + name + "\" of type " + tensor_type_name(type) + " has shape " + shape_text(shape) +
                (q4 ? "; it must be 2-D" : "; it must be 1-D or 2-D"));
  // Dimensions up to 2^31 keep every product below 2^62.
  for (int64_t d : shape)
    if (d <= 0 || d > (int64_t{1} << 31))
      throw Error("tensor \"" + name + "\" has dimension " + std::to_string(d) + " in shape " + shape_text(shape));
  if (q4) {
    if (shape[1] % 32 != 0)
      throw Error("tensor \"" + name + "\" of type " + tensor_type_name(type) + " has " + std::to_string(shape[1]) +
                  " columns, not a multiple of 32");
    return quant::q4_packed_bytes(*scheme, shape[0], shape[1]);
  }
  const uint64_t numel = static_cast<uint64_t>(shape[0]) * static_cast<uint64_t>(shape.size() == 2 ? shape[1] : 1);
  return numel * (type == TensorType::kF32 ? 4 : 2);
}

ModelFileIndex parse_model_file(const uint8_t* data, size_t size, const std::string& where) {
  if (size < kHeaderBytes)
    throw Error(where + ": not a mobilellm model file (" + std::to_string(size) + " bytes, shorter than its header)");
  if (std::memcmp(data, kMagic, sizeof kMagic) != 0)
    throw Error(where + ": not a mobilellm model file (it does not start with \"MOBILELM\")");
  Header h{read_u32(data + 8),  read_u32(data + 12), read_u32(data + 40),
           read_u64(data + 16), read_u64(data + 24), read_u64(data + 32)};
  if (h.version != kVersion)
    throw Error(where + ": model file format version " + std::to_string(h.version) + "; this build reads version " +
                std::to_string(kVersion));
  if (h.header_bytes != kHeaderBytes)
    throw Error(where + ": corrupted header (header size " + std::to_string(h.header_bytes) + ", expected 64)");
  if (h.file_bytes != size)
    throw Error(where + ": " + (size < h.file_bytes ? "truncated" : "has trailing bytes") + ": the header says " +
                std::to_string(h.file_bytes) + " bytes, the file has " + std::to_string(size) +
                (size < h.file_bytes ? " (an interrupted copy or download?)" : ""));
  if (h.index_offset < kHeaderBytes || h.index_offset > size || h.index_bytes != size - h.index_offset)
    throw Error(where + ": corrupted header (index at " + std::to_string(h.index_offset) + ", " +
                std::to_string(h.index_bytes) + " bytes, in a file of " + std::to_string(size) + ")");
  const uint8_t* index_data = data + h.index_offset;
  if (crc32c(index_data, h.index_bytes) != h.index_crc32c) throw Error(where + ": corrupted index (checksum mismatch)");

  json doc;
  try {
    doc = json::parse(index_data, index_data + h.index_bytes);
  } catch (const json::exception& e) {
    throw Error(where + ": index is not valid JSON: " + e.what());
  }
  ModelFileIndex index;
  const JsonFields top(doc, where + ": index");
  const std::string scheme = top.string("scheme");
  const std::optional<Scheme> parsed = parse_scheme(scheme);
  if (!parsed) top.fail("has unknown scheme \"" + scheme + "\" (expected " + scheme_choices_text() + ")");
  index.scheme = *parsed;
  index.kv_cache = default_kv_cache(index.scheme);
  if (top.has("kv_cache")) {
    const std::string kv_cache = top.string("kv_cache");
    const std::optional<KvCacheType> kv = parse_kv_cache(kv_cache);
    if (!kv)
      top.fail("has unknown kv_cache \"" + kv_cache + "\" (expected " + kv_cache_name(KvCacheType::kF32) + " or " +
               kv_cache_name(KvCacheType::kInt8) + ")");
    index.kv_cache = *kv;
  }
  index.config = top.get("config");
  if (!index.config.is_object()) top.fail("\"config\" is not an object");
  index.generation = top.get("generation_config");
  index.source = top.get("source");
  const json& tensors = top.get("tensors");
  const json& blobs = top.get("blobs");
  if (!tensors.is_array() || !blobs.is_array()) top.fail("\"tensors\" and \"blobs\" must be arrays");

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const JsonFields f(tensors[i], where + ": tensor " + std::to_string(i));
    TensorInfo t;
    t.name = f.string("name");
    const JsonFields named(tensors[i], where + ": tensor \"" + t.name + "\"");
    if (!names.insert(t.name).second) named.fail("appears twice");
    t.type = parse_type(named.string("type"), named);
    const json& shape = named.get("shape");
    if (!shape.is_array()) named.fail("\"shape\" is not an array");
    for (const json& d : shape) {
      if (!d.is_number_integer()) named.fail("\"shape\" holds a non-integer");
      t.shape.push_back(d.get<int64_t>());
    }
    t.offset = named.unsigned_integer("offset");
    t.bytes = named.unsigned_integer("bytes");
    const uint64_t crc = named.unsigned_integer("crc32c");
    if (crc > 0xFFFFFFFFu) named.fail("\"crc32c\" is larger than 32 bits");
    t.crc32c = static_cast<uint32_t>(crc);
    uint64_t want;
    try {
      want = tensor_bytes(t.type, t.shape, t.name);
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
    if (t.bytes != want)
      named.fail("is " + std::to_string(t.bytes) + " bytes; type " + tensor_type_name(t.type) + " shape " +
                 shape_text(t.shape) + " needs " + std::to_string(want));
    check_range(t.offset, t.bytes, h.index_offset, named);
    ranges.emplace_back(t.offset, t.bytes);
    index.tensors.push_back(std::move(t));
  }
  std::set<std::string> blob_names;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const JsonFields f(blobs[i], where + ": blob " + std::to_string(i));
    BlobInfo b;
    b.name = f.string("name");
    const JsonFields named(blobs[i], where + ": blob \"" + b.name + "\"");
    if (!blob_names.insert(b.name).second) named.fail("appears twice");
    b.offset = named.unsigned_integer("offset");
    b.bytes = named.unsigned_integer("bytes");
    const uint64_t crc = named.unsigned_integer("crc32c");
    if (crc > 0xFFFFFFFFu) named.fail("\"crc32c\" is larger than 32 bits");
    b.crc32c = static_cast<uint32_t>(crc);
    check_range(b.offset, b.bytes, h.index_offset, named);
    ranges.emplace_back(b.offset, b.bytes);
    index.blobs.push_back(std::move(b));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].first + ranges[i - 1].second)
      throw Error(where + ": corrupted index: two entries overlap at byte " + std::to_string(ranges[i].first));
  return index;
}

bool is_model_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kMagic] = {};
  return in && in.read(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof kMagic) == 0;
}

std::shared_ptr<const ModelFile> ModelFile::open(const std::filesystem::path& path) {
  io::MappedFile file(path);
  ModelFileIndex index = parse_model_file(file.data(), file.size(), path.string());
  return std::shared_ptr<const ModelFile>(new ModelFile(std::move(file), std::move(index)));
}

const TensorInfo* ModelFile::find(const std::string& name) const {
  for (const auto& t : index_.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const BlobInfo* ModelFile::find_blob(const std::string& name) const {
  for (const auto& b : index_.blobs)
    if (b.name == name) return &b;
  return nullptr;
}

std::string ModelFile::blob(const BlobInfo& b) const {
  return std::string(reinterpret_cast<const char*>(file_.data() + b.offset), b.bytes);
}

void ModelFile::verify_data() const {
  for (const auto& t : index_.tensors)
    if (crc32c(file_.data() + t.offset, t.bytes) != t.crc32c)
      throw Error(path().string() + ": tensor \"" + t.name + "\" is corrupted (checksum mismatch)");
  for (const auto& b : index_.blobs)
    if (crc32c(file_.data() + b.offset, b.bytes) != b.crc32c)
      throw Error(path().string() + ": blob \"" + b.name + "\" is corrupted (checksum mismatch)");
}

ModelFileWriter::ModelFileWriter(const std::filesystem::path& path) : out_(path) {
  const uint8_t zeros[kHeaderBytes] = {};
  out_.write(zeros, kHeaderBytes);
  end_ = kHeaderBytes;
}

ModelFileWriter::~ModelFileWriter() = default;

uint64_t ModelFileWriter::append_aligned(const void* data, size_t bytes) {
  static const uint8_t zeros[kAlignment] = {};
  const uint64_t offset = (end_ + kAlignment - 1) / kAlignment * kAlignment;
  const size_t pad = static_cast<size_t>(offset - end_);
  out_.write(zeros, pad);
  out_.write(data, bytes);
  end_ = offset + bytes;
  return offset;
}

void ModelFileWriter::add_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                                 const void* data, size_t bytes) {
  const uint64_t want = tensor_bytes(type, shape, name);
  if (bytes != want)
    throw Error("tensor \"" + name + "\": " + std::to_string(bytes) + " bytes given, its type and shape need " +
                std::to_string(want));
  TensorInfo t{name, type, shape, 0, bytes, crc32c(data, bytes)};
  t.offset = append_aligned(data, bytes);
  index_.tensors.push_back(std::move(t));
}

void ModelFileWriter::add_blob(const std::string& name, const void* data, size_t bytes) {
  BlobInfo b{name, 0, bytes, crc32c(data, bytes)};
  b.offset = append_aligned(data, bytes);
  index_.blobs.push_back(std::move(b));
}

void ModelFileWriter::finish(Scheme scheme, KvCacheType kv_cache, const json& config, const json& generation,
                             const json& source) {
  json doc = {{"scheme", scheme_name(scheme)},
              {"kv_cache", kv_cache_name(kv_cache)},
              {"config", config},
              {"generation_config", generation},
              {"source", source}};
  doc["tensors"] = json::array();
  for (const auto& t : index_.tensors)
    doc["tensors"].push_back({{"name", t.name},
                              {"type", tensor_type_name(t.type)},
                              {"shape", t.shape},
                              {"offset", t.offset},
                              {"bytes", t.bytes},
                              {"crc32c", t.crc32c}});
  doc["blobs"] = json::array();
  for (const auto& b : index_.blobs)
    doc["blobs"].push_back({{"name", b.name}, {"offset", b.offset}, {"bytes", b.bytes}, {"crc32c", b.crc32c}});
  const std::string text = doc.dump();
  const uint64_t index_offset = end_;
  out_.write(text.data(), text.size());
  end_ += text.size();

  uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  const uint32_t version = kVersion, header_bytes = kHeaderBytes, crc = crc32c(text.data(), text.size());
  const uint64_t index_bytes = text.size();
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &header_bytes, 4);
  std::memcpy(header + 16, &end_, 8);
  std::memcpy(header + 24, &index_offset, 8);
  std::memcpy(header + 32, &index_bytes, 8);
  std::memcpy(header + 40, &crc, 4);
  if (std::fseek(out_.file(), 0, SEEK_SET) != 0)
    throw Error(out_.temp_path().string() + ": seek failed: " + std::strerror(errno));
  out_.write(header, kHeaderBytes);
  out_.commit();
}

}  // namespace mobilellm::format
