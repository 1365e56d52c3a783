#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/json_depth.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/loaders.h"
#include "tokenizer/splitter.h"

namespace mobilellm::tokenizer {
namespace {

using nlohmann::json;

class JsonReader {
 public:
  explicit JsonReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error(file_ + ": " + path + ": " + what);
  }
  const json& member(const json& j, const std::string& path, const char* key) const {
    if (!j.is_object()) fail(path, "expected an object");
    auto it = j.find(key);
    if (it == j.end()) fail(path + "." + key, "missing");
    return *it;
  }
  std::string string(const json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, "expected a string");
    return j.get<std::string>();
  }
  bool flag(const json& j, const std::string& path, const char* key, bool fallback) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(path + "." + key, "expected true or false");
    return it->get<bool>();
  }
  int32_t id(const json& j, const std::string& path) const {
    if (!j.is_number_integer() || j.get<int64_t>() < 0 || j.get<int64_t>() >= kMaxTokenId)
      fail(path, "expected a token id (an integer from 0 to " + std::to_string(kMaxTokenId - 1) + ")");
    return j.get<int32_t>();
  }

 private:
  std::string file_;
};

std::string read_pattern(const JsonReader& r, const json& pre, const std::string& path, bool* byte_level) {
  std::string type = r.string(r.member(pre, path, "type"), path + ".type");
  if (type == "Sequence") {
    const json& list = r.member(pre, path, "pretokenizers");
    if (!list.is_array()) r.fail(path + ".pretokenizers", "expected an array");
    std::string pattern;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = read_pattern(r, list[i], path + ".pretokenizers[" + std::to_string(i) + "]", byte_level);
      if (!p.empty()) {
        if (!pattern.empty()) r.fail(path, "more than one split regex is not supported");
        pattern = p;
      }
    }
    return pattern;
  }
  if (type == "Split") {
    const json& pat = r.member(pre, path, "pattern");
    if (!pat.is_object() || !pat.contains("Regex")) r.fail(path + ".pattern", "expected {\"Regex\": ...}");
    if (r.string(r.member(pre, path, "behavior"), path + ".behavior") != "Isolated")
      r.fail(path + ".behavior", "only \"Isolated\" is supported");
    if (r.flag(pre, path, "invert", false)) r.fail(path + ".invert", "inverted splits are not supported");
    return r.string(pat["Regex"], path + ".pattern.Regex");
  }
  if (type == "ByteLevel") {
    if (r.flag(pre, path, "add_prefix_space", false)) r.fail(path + ".add_prefix_space", "not supported");
    *byte_level = true;
    return r.flag(pre, path, "use_regex", true) ? std::string(kGpt2Pattern) : std::string();
  }
  r.fail(path + ".type", "pre-tokenizer \"" + type + "\" is not supported");
}

}  // namespace

TokenizerData parse_hf_tokenizer_json(std::string_view text, const std::string& where) {
  JsonReader r(where);
  json root;
  try {
    root = json::parse(text, json_depth_limit<json>(where));
  } catch (const json::exception& e) {
    throw Error(where + ": not valid JSON: " + e.what());
  }
  TokenizerData data;

  if (root.contains("normalizer") && !root["normalizer"].is_null())
    r.fail("normalizer", "normalizers are not supported");
  const json& model = r.member(root, "", "model");
  if (r.string(r.member(model, "model", "type"), "model.type") != "BPE")
    r.fail("model.type", "only \"BPE\" is supported");
  if (r.flag(model, "model", "byte_fallback", false)) r.fail("model.byte_fallback", "not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && !model[key].is_null() && model[key] != "")
      r.fail(std::string("model.") + key, "not supported");
  data.ignore_merges = r.flag(model, "model", "ignore_merges", false);

  bool byte_level = false;
  if (!root.contains("pre_tokenizer") || root["pre_tokenizer"].is_null()) r.fail("pre_tokenizer", "missing");
  std::string pattern = read_pattern(r, root["pre_tokenizer"], "pre_tokenizer", &byte_level);
  if (!byte_level) r.fail("pre_tokenizer", "expected a ByteLevel pre-tokenizer");
  if (pattern.empty()) r.fail("pre_tokenizer", "no split regex");
  data.patterns = {pattern};

  // Vocabulary: byte-level text -> id.
  const json& vocab = r.member(model, "model", "vocab");
  if (!vocab.is_object()) r.fail("model.vocab", "expected an object");
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    std::string where = "model.vocab[" + json(it.key()).dump() + "]";
    int32_t id = r.id(it.value(), where);
    auto bytes = byte_level_decode(it.key());
    if (!bytes) r.fail(where, "not a byte-level token");
    if (static_cast<size_t>(id) >= data.tokens.size()) {
      data.tokens.resize(id + 1);
      data.is_bpe.resize(id + 1, false);
    }
    if (data.is_bpe[id]) r.fail(where, "id " + std::to_string(id) + " used twice");
    data.tokens[id] = std::move(*bytes);
    data.is_bpe[id] = true;
  }

  const json& merges = r.member(model, "model", "merges");
  if (!merges.is_array()) r.fail("model.merges", "expected an array");
  data.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    std::string where = "model.merges[" + std::to_string(i) + "]";
    std::string left, right;
    if (merges[i].is_string()) {
      std::string m = merges[i].get<std::string>();
      size_t sp = m.find(' ');
      if (sp == std::string::npos || m.find(' ', sp + 1) != std::string::npos) r.fail(where, "expected \"left right\"");
      left = m.substr(0, sp);
      right = m.substr(sp + 1);
    } else if (merges[i].is_array() && merges[i].size() == 2) {
      left = r.string(merges[i][0], where + "[0]");
      right = r.string(merges[i][1], where + "[1]");
    } else {
      r.fail(where, "expected \"left right\" or [left, right]");
    }
    auto lookup = [&](const std::string& t) {
      auto it = vocab.find(t);
      if (it == vocab.end()) r.fail(where, "\"" + t + "\" is not in model.vocab");
      return it->get<int32_t>();
    };
    data.merges.push_back({lookup(left), lookup(right), lookup(left + right), static_cast<uint32_t>(i)});
  }

  if (root.contains("added_tokens")) {
    const json& added = root["added_tokens"];
    if (!added.is_array()) r.fail("added_tokens", "expected an array");
    for (size_t i = 0; i < added.size(); ++i) {
      std::string where = "added_tokens[" + std::to_string(i) + "]";
      const json& a = added[i];
      int32_t id = r.id(r.member(a, where, "id"), where + ".id");
      std::string text = r.string(r.member(a, where, "content"), where + ".content");
      for (const char* key : {"lstrip", "rstrip", "single_word"})
        if (r.flag(a, where, key, false)) r.fail(where + "." + key, "not supported");
      data.added.push_back({id, text, r.flag(a, where, "special", false)});
    }
  }
  return data;
}

}  // namespace mobilellm::tokenizer
