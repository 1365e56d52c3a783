#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/json_depth.h"
#include "tokenizer/loaders.h"

namespace mobilellm::tokenizer {
namespace {

using nlohmann::json;

json parse_json_file(const TokenizerFiles& files, const std::string& name) {
  try {
    return json::parse(files.read(name), json_depth_limit<json>(files.where(name)));
  } catch (const json::exception& e) {
    throw Error(files.where(name) + ": not valid JSON: " + e.what());
  }
}

// `file`: the file as messages name it (TokenizerFiles::where).
[[noreturn]] void fail(const std::string& file, const std::string& path, const std::string& what) {
  throw Error(file + ": " + path + ": " + what);
}

// "bos_token": "<|begin_of_text|>" or {"content": "<|begin_of_text|>", ...}.
std::string token_text(const std::string& file, const json& root, const char* key) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  fail(file, key, "expected a string or {\"content\": string}");
}

std::vector<int32_t> token_ids(const std::string& file, const json& root, const char* key) {
  auto it = root.find(key);
  std::vector<int32_t> ids;
  if (it == root.end() || it->is_null()) return ids;
  json list = it->is_array() ? *it : json::array({*it});
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_number_integer() || list[i].get<int64_t>() < 0 || list[i].get<int64_t>() >= kMaxTokenId)
      fail(file, std::string(key) + "[" + std::to_string(i) + "]", "expected a token id");
    ids.push_back(list[i].get<int32_t>());
  }
  return ids;
}

void read_tokenizer_config(const TokenizerFiles& files, TokenizerData& data) {
  const std::string file = files.where("tokenizer_config.json");
  json root = parse_json_file(files, "tokenizer_config.json");
  if (!root.is_object()) fail(file, "(root)", "expected an object");
  if (auto it = root.find("added_tokens_decoder"); it != root.end()) {
    if (!it->is_object()) fail(file, "added_tokens_decoder", "expected an object");
    for (auto t = it->begin(); t != it->end(); ++t) {
      std::string where = "added_tokens_decoder[\"" + t.key() + "\"]";
      int32_t id = -1;
      try {
        size_t used = 0;
        id = std::stoi(t.key(), &used);
        if (used != t.key().size() || id < 0 || id >= kMaxTokenId) id = -1;
      } catch (const std::exception&) {
      }
      if (id < 0) fail(file, where, "key is not a token id");
      if (!t->is_object() || !t->contains("content") || !(*t)["content"].is_string())
        fail(file, where + ".content", "expected a string");
      for (const char* key : {"lstrip", "rstrip", "single_word"})
        if (t->contains(key) && (*t)[key] == true) fail(file, where + "." + key, "not supported");
      bool special = t->contains("special") && (*t)["special"] == true;
      std::string text = (*t)["content"].get<std::string>();
      bool replaced = false;
      for (auto& a : data.added)
        if (a.id == id) {
          a = {id, text, special};
          replaced = true;
        }
      if (!replaced) data.added.push_back({id, text, special});
    }
  }
  if (data.bos_token.empty()) data.bos_token = token_text(file, root, "bos_token");
  if (data.eos_token.empty()) data.eos_token = token_text(file, root, "eos_token");
  if (auto it = root.find("add_bos_token"); it != root.end() && !it->is_null()) {
    if (!it->is_boolean()) fail(file, "add_bos_token", "expected true or false");
    data.add_bos = it->get<bool>();
  }
  if (auto it = root.find("chat_template"); it != root.end() && !it->is_null()) {
    data.chat_template_origin = file;
    if (it->is_string()) {
      data.chat_template = it->get<std::string>();
    } else if (it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i) {
        const json& t = (*it)[i];
        if (!t.is_object() || !t.contains("name") || !t.contains("template") || !t["template"].is_string())
          fail(file, "chat_template[" + std::to_string(i) + "]", "expected {\"name\", \"template\"}");
        if (t["name"] == "default") data.chat_template = t["template"].get<std::string>();
      }
    } else {
      fail(file, "chat_template", "expected a string or a list of named templates");
    }
  }
}

}  // namespace

void apply_checkpoint_config(const TokenizerFiles& files, TokenizerData& data) {
  if (files.has("tokenizer_config.json")) read_tokenizer_config(files, data);
  if (files.has("special_tokens_map.json")) {
    json root = parse_json_file(files, "special_tokens_map.json");
    const std::string file = files.where("special_tokens_map.json");
    if (data.bos_token.empty()) data.bos_token = token_text(file, root, "bos_token");
    if (data.eos_token.empty()) data.eos_token = token_text(file, root, "eos_token");
  }
  // transformers saves the template to its own file, which then wins.
  if (files.has("chat_template.jinja")) {
    data.chat_template = files.read("chat_template.jinja");
    data.chat_template_origin = files.where("chat_template.jinja");
  }
  for (const char* name : {"generation_config.json", "config.json"}) {
    if (!data.config_eos_ids.empty() || !files.has(name)) continue;
    json root = parse_json_file(files, name);
    if (root.is_object()) data.config_eos_ids = token_ids(files.where(name), root, "eos_token_id");
  }
}

}  // namespace mobilellm::tokenizer
