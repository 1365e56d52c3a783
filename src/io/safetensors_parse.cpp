#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "io/safetensors.h"
#include "io/safetensors_format.h"
#include "runtime/error.h"

namespace mobilellm::io {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // parse_safetensors checked every partial product
  return n;
}

namespace {

[[noreturn]] void fail(const fs::path& file, const std::string& what) { throw Error(file.string() + ": " + what); }

[[noreturn]] void fail(const fs::path& file, const std::string& name, const std::string& what) {
  throw Error(file.string() + ": tensor " + json_quoted(name) + ": " + what);
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

std::string range_text(uint64_t begin, uint64_t end) {
  std::string s = "[";  // built by appending: "[" + std::string&& trips GCC 12's -Wrestrict
  s += std::to_string(begin);
  s += ", ";
  s += std::to_string(end);
  return s + ")";
}

std::string offsets_text(uint64_t begin, uint64_t end) { return "data_offsets " + range_text(begin, end); }

// nlohmann keeps the last of two equal keys; a header naming a tensor (or a
// field) twice is ambiguous, so duplicates are rejected instead.
json parse_header(const char* begin, const char* end, const fs::path& file) {
  std::vector<std::set<std::string>> open_objects;
  std::string top_key, duplicate, duplicate_owner;
  auto track_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (depth == 1) top_key = key;
      if (!open_objects.back().insert(key).second && duplicate.empty()) {
        duplicate = key;
        duplicate_owner = depth == 1 ? std::string() : top_key;
      }
    }
    return true;
  };
  json header;
  try {
    header = json::parse(begin, end, track_keys);
  } catch (const json::exception& e) {
    fail(file, "header is not valid JSON: " + json_error_text(e));
  }
  if (!header.is_object()) fail(file, std::string("header is not a JSON object (it is ") + header.type_name() + ")");
  if (!duplicate.empty()) {
    if (duplicate_owner.empty()) fail(file, duplicate, "appears twice in the header");
    fail(file, "header entry " + json_quoted(duplicate_owner) + " has the key " + json_quoted(duplicate) + " twice");
  }
  return header;
}

std::map<std::string, std::string> parse_metadata(const json& value, const fs::path& file) {
  std::map<std::string, std::string> meta;
  if (value.is_null()) return meta;  // the official reader treats null as absent
  if (!value.is_object()) fail(file, std::string("__metadata__ is not an object (it is ") + value.type_name() + ")");
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) fail(file, "__metadata__ value of " + json_quoted(key) + " is not a string");
    meta.emplace(key, v.get<std::string>());
  }
  return meta;
}

const json& field(const json& entry, const char* key, const fs::path& file, const std::string& name) {
  auto it = entry.find(key);
  if (it == entry.end()) fail(file, name, std::string("missing \"") + key + "\"");
  return *it;
}

std::vector<int64_t> parse_shape(const json& value, const fs::path& file, const std::string& name) {
  if (!value.is_array()) fail(file, name, std::string("\"shape\" is not an array (it is ") + value.type_name() + ")");
  std::vector<int64_t> shape;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& d = value[i];
    const std::string which = "shape dimension " + std::to_string(i);
    if (d.is_number_unsigned()) {
      auto v = d.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(file, name, which + " is too large (" + std::to_string(v) + ")");
      shape.push_back(static_cast<int64_t>(v));
    } else if (d.is_number_integer()) {
      fail(file, name, which + " is negative (" + std::to_string(d.get<int64_t>()) + ")");
    } else if (d.is_number_float()) {
      fail(file, name, which + " is not an integer");
    } else {
      fail(file, name, which + " is not an integer (it is " + d.type_name() + ")");
    }
  }
  return shape;
}

struct Span {
  uint64_t begin, end;
  const std::string* name;
};

TensorEntry parse_entry(const std::string& name, const json& value, const fs::path& file, const uint8_t* area,
                        uint64_t area_size, Span& span) {
  if (!value.is_object())
    fail(file, name, std::string("header entry is not an object (it is ") + value.type_name() + ")");
  TensorEntry e;
  e.name = name;
  e.file = file;

  const json& dtype = field(value, "dtype", file, name);
  if (!dtype.is_string()) fail(file, name, "\"dtype\" is not a string");
  e.dtype = dtype.get<std::string>();
  const int bits = safetensors_dtype_bits(e.dtype);
  if (bits == 0) fail(file, name, "unknown dtype " + json_quoted(e.dtype));

  e.shape = parse_shape(field(value, "shape", file, name), file, name);
  const std::string described = "shape " + format_shape(e.shape) + " of " + e.dtype;
  auto numel = checked_numel(e.shape);
  if (!numel) fail(file, name, described + " has more elements than fit in 64 bits");
  auto total_bits = checked_bits(*numel, bits);
  if (!total_bits) fail(file, name, described + " needs more bytes than fit in 64 bits");
  if (*total_bits % 8 != 0) fail(file, name, described + " does not fill whole bytes");
  const uint64_t need = *total_bits / 8;

  const json& offsets = field(value, "data_offsets", file, name);
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(file, name, "\"data_offsets\" is not [begin, end] of non-negative integers");
  const auto begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end) fail(file, name, offsets_text(begin, end) + " has begin after end");
  if (end > area_size)
    fail(file, name, offsets_text(begin, end) + " end beyond the data area (" + std::to_string(area_size) + " bytes)");
  if (end - begin != need)
    fail(file, name,
         offsets_text(begin, end) + " hold " + std::to_string(end - begin) + " bytes but " + described + " needs " +
             std::to_string(need));

  e.data = area + begin;
  e.nbytes = static_cast<size_t>(end - begin);
  span = {begin, end, nullptr};
  return e;
}

}  // namespace

void parse_safetensors(const uint8_t* data, size_t size, const fs::path& file, std::map<std::string, TensorEntry>& out,
                       std::map<std::string, std::string>* metadata) {
  if (size < 8) fail(file, "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  const uint64_t header_len = read_le64(data);
  if (header_len > kMaxHeaderBytes)
    fail(file, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_len > size - 8)
    fail(file, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
  const char* text = reinterpret_cast<const char*>(data + 8);
  const json header = parse_header(text, text + header_len, file);
  const uint8_t* area = data + 8 + header_len;
  const uint64_t area_size = size - 8 - header_len;

  // Built aside and merged at the end, so that `out` is untouched when the file is rejected.
  std::map<std::string, TensorEntry> parsed;
  std::map<std::string, std::string> meta;
  std::vector<Span> spans;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      meta = parse_metadata(value, file);
      continue;
    }
    Span span;
    TensorEntry e = parse_entry(name, value, file, area, area_size, span);
    auto it = parsed.emplace(name, std::move(e)).first;
    span.name = &it->first;
    spans.push_back(span);
  }

  // Two tensors sharing bytes would alias each other; empty tensors share nothing.
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  const Span* prev = nullptr;
  for (const Span& s : spans) {
    if (s.begin == s.end) continue;
    if (prev != nullptr && prev->end > s.begin)
      fail(file, *s.name,
           offsets_text(s.begin, s.end) + " overlap tensor " + json_quoted(*prev->name) + " " +
               range_text(prev->begin, prev->end));
    prev = &s;
  }

  for (const auto& [name, e] : parsed) {
    auto it = out.find(name);
    if (it != out.end()) fail(file, name, "also in " + it->second.file.string());
  }
  out.merge(parsed);
  if (metadata != nullptr) metadata->merge(meta);
}

}  // namespace mobilellm::io
