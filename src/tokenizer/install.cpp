#include <fstream>

#include <nlohmann/json.hpp>

#include "io/gguf.h"
#include "runtime/error.h"
#include "tokenizer/loaders.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {
namespace {

namespace fs = std::filesystem;

// Files that travel with a tokenizer.json (or a checkpoint) when present.
constexpr const char* kCompanions[] = {"tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"};

void copy_over(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw Error("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
}

void write_json(const fs::path& path, const nlohmann::ordered_json& j) {
  std::ofstream out(path, std::ios::binary);
  out << j.dump(2) << "\n";
  if (!out) throw Error("cannot write " + path.string());
}

// The Hugging Face config a tiktoken-only source lacks: the special tokens
// (so other tools see them), BOS, EOS and padding.
void write_config_for_tiktoken(const Tokenizer& tok, const fs::path& dir) {
  nlohmann::ordered_json added = nlohmann::ordered_json::object();
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (!tok.is_special(id)) continue;
    added[std::to_string(id)] = {{"content", std::string(tok.token_bytes(id))},
                                 {"lstrip", false},
                                 {"normalized", false},
                                 {"rstrip", false},
                                 {"single_word", false},
                                 {"special", true}};
  }
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  if (tok.bos_id() >= 0) map["bos_token"] = std::string(tok.token_bytes(tok.bos_id()));
  if (!tok.eos_ids().empty()) map["eos_token"] = std::string(tok.token_bytes(tok.eos_ids().back()));
  if (tok.find_special("<|finetune_right_pad|>")) map["pad_token"] = "<|finetune_right_pad|>";

  nlohmann::ordered_json config = nlohmann::ordered_json::object();
  if (fs::exists(dir / "tokenizer_config.json"))
    config = nlohmann::ordered_json::parse(tokenizer::read_file(dir / "tokenizer_config.json"));
  config["added_tokens_decoder"] = added;
  for (auto it = map.begin(); it != map.end(); ++it) config[it.key()] = it.value();
  write_json(dir / "tokenizer_config.json", config);
  write_json(dir / "special_tokens_map.json", map);
}

}  // namespace

void install_tokenizer_files(const fs::path& source, const fs::path& checkpoint_dir) {
  Tokenizer tok = Tokenizer::load(source);  // validates the source before anything is written
  if (!fs::is_directory(source) && io::is_gguf_file(source))
    throw Error(source.string() + ": a GGUF file's tokenizer cannot be installed as Hugging Face tokenizer files");
  std::error_code ec;
  fs::create_directories(checkpoint_dir, ec);
  if (ec) throw Error("cannot create " + checkpoint_dir.string() + ": " + ec.message());

  fs::path dir = fs::is_directory(source) ? source : source.parent_path();
  fs::path model;
  if (fs::is_directory(source))
    model = fs::exists(source / "tokenizer.json") ? source / "tokenizer.json" : source / "tokenizer.model";
  else
    model = source;

  if (model.extension() == ".json") {
    copy_over(model, checkpoint_dir / "tokenizer.json");
    for (const char* name : kCompanions)
      if (fs::exists(dir / name)) copy_over(dir / name, checkpoint_dir / name);
  } else {
    copy_over(model, checkpoint_dir / "tokenizer.model");
    bool has_config = fs::is_directory(source) && fs::exists(source / "tokenizer_config.json");
    for (const char* name : kCompanions)
      if (fs::is_directory(source) && fs::exists(dir / name)) copy_over(dir / name, checkpoint_dir / name);
    if (!has_config) write_config_for_tiktoken(tok, checkpoint_dir);
  }
}

}  // namespace mobilellm
