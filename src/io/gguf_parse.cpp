// GGUF header parsing and validation (the layout: docs/GGUF.md, after
// ggml/src/gguf.cpp's gguf_init_from_file_impl). Every count and length is
// checked against the bytes that are left before anything is allocated, so a
// lying header costs at most memory in proportion to the file's size.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>

#include "io/gguf.h"
#include "runtime/error.h"
#include "runtime/shape_text.h"

namespace mobilellm::io {

static_assert(std::endian::native == std::endian::little, "GGUF numbers are read as little-endian");

namespace {

// Smallest encodings, used to bound counts before reading them.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;            // key length, type, a 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one ne, type, offset
constexpr uint32_t kMaxDims = 4;                             // GGML_MAX_DIMS
constexpr size_t kMaxQuotedBytes = 96;
// Counts are only bounded by the bytes left, which include the tensor data: a
// lying count in front of gigabytes of weights must not reserve gigabytes of
// entries before its first entry fails to parse. Larger tables grow as read.
constexpr uint64_t kMaxReserve = 1 << 16;

// A name from the file, quoted for a message: bytes outside printable ASCII
// escaped, long names cut, so a hostile name cannot garble the message.
std::string quote_name(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxQuotedBytes; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kMaxQuotedBytes) out += "...";
  return out + "\"";
}

}  // namespace

// Reads one GGUF image front to back into a GgufFile.
class GgufParser {
 public:
  GgufParser(std::span<const uint8_t> bytes, GgufFile& out) : bytes_(bytes), out_(out) {}

  void run() {
    read_preamble();
    const auto [n_tensors, n_values] = read_counts();
    out_.values_.reserve(std::min(n_values, kMaxReserve));
    for (uint64_t i = 0; i < n_values; ++i) read_value(i);
    read_alignment();
    out_.tensors_.reserve(std::min(n_tensors, kMaxReserve));
    for (uint64_t i = 0; i < n_tensors; ++i) read_tensor_info(i);
    place_tensors();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(out_.path_.string() + ": " + what); }

  uint64_t left() const { return bytes_.size() - pos_; }

  // `what` names the field in a message: a string, or a callable that makes
  // one only on failure (for the loop over the elements of large arrays).
  template <typename What>
  static std::string describe(const What& what) {
    if constexpr (std::is_invocable_v<What>) {
      return what();
    } else {
      return std::string(what);
    }
  }

  template <typename What>
  const uint8_t* take(uint64_t n, const What& what) {
    if (n > left()) {
      fail("file ends inside " + describe(what) + " at offset " + std::to_string(pos_) + ": it needs " +
           std::to_string(n) + " bytes, " + std::to_string(left()) + " are left");
    }
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }

  template <typename T, typename What>
  T read(const What& what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }

  template <typename What>
  std::string read_string(const What& what) {
    const uint64_t n = read<uint64_t>([&] { return "the length of " + describe(what); });
    if (n > left()) {
      fail("the length of " + describe(what) + " is " + std::to_string(n) + " bytes, but only " +
           std::to_string(left()) + " bytes are left in the file");
    }
    const uint8_t* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }

  void read_preamble() {
    if (bytes_.size() < 4) fail("file is " + std::to_string(bytes_.size()) + " bytes, too short for the GGUF magic");
    const uint8_t* m = take(4, "the magic");
    if (std::memcmp(m, "GGUF", 4) != 0) {
      char text[5], hex[16];
      for (int i = 0; i < 4; ++i) text[i] = m[i] >= 0x20 && m[i] < 0x7f ? static_cast<char>(m[i]) : '?';
      text[4] = 0;
      std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", m[0], m[1], m[2], m[3]);
      fail(std::string("not a GGUF file: it starts with '") + text + "' (" + hex + "), not 'GGUF'");
    }
    const uint32_t version = read<uint32_t>("the version");
    // A big-endian file's small version number reads here with its low half zero.
    if (version != 0 && (version & 0xFFFFu) == 0) {
      fail("GGUF version field " + std::to_string(version) +
           " looks byte-swapped: big-endian GGUF files are not supported");
    }
    if (version == 1) fail("GGUF version 1 (32-bit counts) is not supported; versions 2 and 3 are");
    if (version != 2 && version != 3) {
      fail("unsupported GGUF version " + std::to_string(version) + "; versions 2 and 3 are supported");
    }
    out_.version_ = version;
  }

  std::pair<uint64_t, uint64_t> read_counts() {
    const auto n_tensors = read<int64_t>("the tensor count");
    const auto n_values = read<int64_t>("the metadata count");
    auto check = [&](int64_t n, const char* what, uint64_t min_bytes) {
      if (n < 0) fail(std::string(what) + " " + std::to_string(n) + " is negative");
      if (static_cast<uint64_t>(n) > left() / min_bytes) {
        fail(std::string(what) + " " + std::to_string(n) + " cannot fit: each takes at least " +
             std::to_string(min_bytes) + " bytes and only " + std::to_string(left()) + " bytes follow");
      }
    };
    check(n_tensors, "tensor count", kMinTensorInfoBytes);
    check(n_values, "metadata count", kMinKeyValueBytes);
    const uint64_t need =
        static_cast<uint64_t>(n_tensors) * kMinTensorInfoBytes + static_cast<uint64_t>(n_values) * kMinKeyValueBytes;
    if (need > left()) {
      fail(std::to_string(n_values) + " metadata entries and " + std::to_string(n_tensors) +
           " tensor infos take at least " + std::to_string(need) + " bytes, but only " + std::to_string(left()) +
           " bytes follow");
    }
    return {static_cast<uint64_t>(n_tensors), static_cast<uint64_t>(n_values)};
  }

  GgufValueType read_value_type(const std::string& what, const std::string& key) {
    const auto raw = read<uint32_t>(what);
    if (raw > static_cast<uint32_t>(GgufValueType::kFloat64)) {
      fail("key " + quote_name(key) + ": unknown value type " + std::to_string(raw) + " (known: 0 to 12)");
    }
    return static_cast<GgufValueType>(raw);
  }

  void check_bools(const uint8_t* p, uint64_t n, const std::string& key) {
    for (uint64_t i = 0; i < n; ++i) {
      if (p[i] > 1) {
        fail("key " + quote_name(key) + ": bool " + (n > 1 ? "element " + std::to_string(i) + " " : std::string()) +
             "is " + std::to_string(p[i]) + ", not 0 or 1");
      }
    }
  }

  void read_value(uint64_t index) {
    GgufValue v;
    v.key_ = read_string("the key of metadata entry " + std::to_string(index));
    const std::string& key = v.key_;
    if (key.empty()) fail("metadata entry " + std::to_string(index) + " has an empty key");
    if (auto it = out_.value_index_.find(key); it != out_.value_index_.end()) {
      fail("duplicate key " + quote_name(key) + " (metadata entries " + std::to_string(it->second) + " and " +
           std::to_string(index) + ")");
    }
    v.where_ = out_.path_.string() + ": key " + quote_name(key);
    const std::string of_key = " of key " + quote_name(key);
    v.type_ = read_value_type("the value type" + of_key, key);
    GgufValueType element = v.type_;
    if (v.type_ == GgufValueType::kArray) {
      element = v.element_type_ = read_value_type("the array element type" + of_key, key);
      if (element == GgufValueType::kArray) {
        fail("key " + quote_name(key) + ": arrays of arrays are not supported (llama.cpp rejects them too)");
      }
      v.count_ = read<uint64_t>("the array length" + of_key);
      const uint64_t min_bytes = element == GgufValueType::kString ? 8 : gguf_value_type_size(element);
      if (v.count_ > left() / min_bytes) {
        fail("key " + quote_name(key) + ": array of " + std::to_string(v.count_) + " " + gguf_value_type_name(element) +
             " cannot fit: each takes at least " + std::to_string(min_bytes) + " bytes and only " +
             std::to_string(left()) + " bytes are left");
      }
    }
    if (element == GgufValueType::kString) {
      v.strings_.reserve(std::min(v.count_, kMaxReserve));
      for (uint64_t i = 0; i < v.count_; ++i) {
        v.strings_.push_back(read_string([&] {
          return (v.type_ == GgufValueType::kArray ? "string " + std::to_string(i) : std::string("the value")) + of_key;
        }));
      }
    } else {
      const uint64_t n = v.count_ * gguf_value_type_size(element);
      v.raw_ = take(n, "the value" + of_key);
      if (element == GgufValueType::kBool) check_bools(v.raw_, v.count_, key);
    }
    out_.value_index_.emplace(key, index);
    out_.values_.push_back(std::move(v));
  }

  void read_alignment() {
    const GgufValue* v = out_.find("general.alignment");
    if (v == nullptr) return;
    if (v->type() != GgufValueType::kUint32) {
      fail("general.alignment is " + v->type_description() + "; it must be u32");
    }
    const auto a = static_cast<uint64_t>(v->as_int());
    if (!std::has_single_bit(a)) fail("general.alignment " + std::to_string(a) + " is not a power of two");
    out_.alignment_ = a;
  }

  void read_tensor_info(uint64_t index) {
    const std::string info = "tensor info " + std::to_string(index);
    GgufTensor t;
    t.name = read_string("the name of " + info);
    if (t.name.empty()) fail(info + " has an empty name");
    if (auto it = out_.tensor_index_.find(t.name); it != out_.tensor_index_.end()) {
      fail("duplicate tensor name " + quote_name(t.name) + " (tensor infos " + std::to_string(it->second) + " and " +
           std::to_string(index) + ")");
    }
    const std::string tensor = "tensor " + quote_name(t.name);
    const auto n_dims = read<uint32_t>("the dimension count of " + tensor);
    if (n_dims < 1 || n_dims > kMaxDims) {
      fail(tensor + ": " + std::to_string(n_dims) + " dimensions; GGUF tensors have 1 to 4");
    }
    int64_t elements = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = read<int64_t>("dimension " + std::to_string(d) + " of " + tensor);
      if (ne < 1) fail(tensor + ": dimension " + std::to_string(d) + " is " + std::to_string(ne) + ", not >= 1");
      t.ne.push_back(ne);
      overflow = overflow || __builtin_mul_overflow(elements, ne, &elements);
    }
    if (overflow) fail(tensor + ": shape " + shape_text(t.ne) + " has more than 2^63 - 1 elements");

    const auto raw_type = read<uint32_t>("the type of " + tensor);
    const auto type = supported_ggml_type(raw_type);
    if (!type) {
      const char* name = ggml_type_id_name(raw_type);
      if (name == nullptr) fail(tensor + ": unknown ggml type " + std::to_string(raw_type));
      fail(tensor + ": ggml type " + std::to_string(raw_type) + " (" + name +
           ") is not supported; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K");
    }
    t.type = *type;
    const int64_t block = ggml_block_elements(t.type);
    if (t.ne[0] % block != 0) {
      fail(tensor + ": rows of " + std::to_string(t.ne[0]) + " elements are not a multiple of the " +
           ggml_type_name(t.type) + " block size " + std::to_string(block));
    }
    // Every dimension is >= 1, so elements / block blocks of block_bytes each; the
    // product can still pass 2^64 for the float types.
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(elements / block), static_cast<uint64_t>(ggml_block_bytes(t.type)),
                               &nbytes)) {
      fail(tensor + ": shape " + shape_text(t.ne) + " of " + ggml_type_name(t.type) + " takes more than 2^64 bytes");
    }
    t.nbytes = nbytes;
    t.offset = read<uint64_t>("the data offset of " + tensor);
    t.data = nullptr;  // set by place_tensors() once the data section's start is known
    out_.tensor_index_.emplace(t.name, index);
    out_.tensors_.push_back(std::move(t));
  }

  void place_tensors() {
    const uint64_t align = out_.alignment_;
    // The data section starts at the first multiple of the alignment after the tensor infos.
    out_.data_offset_ = pos_ + (align - pos_ % align) % align;
    const uint64_t start = out_.data_offset_, size = bytes_.size();
    auto& tensors = out_.tensors_;
    for (size_t i = 0; i < tensors.size(); ++i) {
      GgufTensor& t = tensors[i];
      const uint64_t offset = t.offset;
      const std::string tensor = "tensor " + quote_name(t.name);
      if (offset % align != 0) {
        fail(tensor + ": data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
             std::to_string(align));
      }
      if (start > size || offset > size - start || t.nbytes > size - start - offset) {
        fail(tensor + ": data at offset " + std::to_string(offset) + " + " + std::to_string(t.nbytes) +
             " bytes runs past the end of the file (the data section starts at byte " + std::to_string(start) +
             ", the file has " + std::to_string(size) + ")");
      }
      t.data = bytes_.data() + start + offset;
    }
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    for (size_t i = 1; i < order.size(); ++i) {
      const GgufTensor& a = tensors[order[i - 1]];
      const GgufTensor& b = tensors[order[i]];
      if (a.offset + a.nbytes > b.offset) {
        fail("tensors " + quote_name(a.name) + " and " + quote_name(b.name) + " overlap: data bytes [" +
             std::to_string(a.offset) + ", " + std::to_string(a.offset + a.nbytes) + ") and [" +
             std::to_string(b.offset) + ", " + std::to_string(b.offset + b.nbytes) + ")");
      }
    }
  }

  std::span<const uint8_t> bytes_;
  GgufFile& out_;
  uint64_t pos_ = 0;
};

std::shared_ptr<const GgufFile> GgufFile::parse(std::span<const uint8_t> bytes, const std::filesystem::path& path) {
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  GgufParser(bytes, *file).run();
  return file;
}

std::shared_ptr<const GgufFile> GgufFile::open(const std::filesystem::path& path) {
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  const MappedFile& mapping = file->mapping_.emplace(path);
  GgufParser({mapping.data(), mapping.size()}, *file).run();
  return file;
}

bool is_gguf_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4];
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace mobilellm::io
