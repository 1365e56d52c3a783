#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "io/json_fields.h"
#include "runtime/error.h"
#include "runtime/read_file.h"
#include "runtime/json_depth.h"

namespace mobilellm::model {
namespace {

using nlohmann::json;

RopeScaling parse_rope_type(const json& params, const std::string& key, const JsonFields& keys) {
  RopeScaling s;
  if (!params.is_object()) keys.fail(key, "must be an object, got " + params.dump());
  std::string type = "default";
  for (const char* name : {"rope_type", "type"}) {
    if (params.contains(name) && params.at(name).is_string()) {
      type = params.at(name).get<std::string>();
      break;
    }
  }
  if (type == "default") return s;
  if (type != "llama3") keys.fail(key + ".rope_type", "\"" + type + "\" is not supported (supported: default, llama3)");
  JsonFields p(params, "");
  auto need = [&](const char* name) {
    if (!p.has(name)) keys.fail(key + "." + name, "is missing (needed by rope_type llama3)");
  };
  for (const char* name : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
    need(name);
  auto num = [&](const char* name) {
    const json& v = params.at(name);
    if (!v.is_number()) keys.fail(key + "." + name, "must be a number, got " + v.dump());
    return v.get<double>();
  };
  s.llama3 = true;
  s.factor = num("factor");
  s.low_freq_factor = num("low_freq_factor");
  s.high_freq_factor = num("high_freq_factor");
  s.original_max_position_embeddings = static_cast<int64_t>(num("original_max_position_embeddings"));
  if (s.factor <= 0) keys.fail(key + ".factor", "must be positive");
  if (s.low_freq_factor <= 0 || s.high_freq_factor <= s.low_freq_factor)
    keys.fail(key + ".high_freq_factor", "must be greater than low_freq_factor > 0");
  if (s.original_max_position_embeddings <= 0) keys.fail(key + ".original_max_position_embeddings", "must be positive");
  return s;
}

json read_json_file(const std::filesystem::path& path) {
  return parse_config_json(read_file_bounded(path, kMaxConfigFileBytes, "JSON config"), path.string());
}

}  // namespace

json parse_config_json(const std::string& text, const std::string& where) {
  try {
    return json::parse(text, json_depth_limit<json>(where));
  } catch (const json::exception& e) {
    throw Error(where + ": invalid JSON: " + e.what());
  }
}

const char* attention_kind_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kFull: return "full_attention";
    case AttentionKind::kSliding: return "sliding_attention";
    case AttentionKind::kChunked: return "chunked_attention";
  }
  return "?";
}

int64_t first_visible_position(const ModelConfig& c, AttentionKind kind, int64_t p) {
  switch (kind) {
    case AttentionKind::kFull: return 0;
    case AttentionKind::kSliding: return std::max<int64_t>(0, p - c.sliding_window + 1);
    case AttentionKind::kChunked: return p / c.attention_chunk_size * c.attention_chunk_size;
  }
  return 0;
}

void ModelConfig::check_token_ids(std::span<const int32_t> ids) const {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab_size)
      throw Error("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                  " is outside the vocabulary (0.." + std::to_string(vocab_size - 1) + ")");
}

int64_t ModelConfig::parameter_count() const {
  int64_t h = hidden_size;
  int64_t per_layer = 2 * h + h * q_dim() + 2 * h * kv_dim() + q_dim() * h + 3 * h * intermediate_size;
  int64_t embeddings = vocab_size * h * (tie_word_embeddings ? 1 : 2);
  return embeddings + num_layers() * per_layer + h;
}

ModelConfig parse_model_config(const json& root, const std::string& where) {
  // Multimodal Llama-4 configs nest the text model under text_config.
  const json& j = root.contains("text_config") && root.at("text_config").is_object() ? root.at("text_config") : root;
  JsonFields k(j, where);
  ModelConfig c;
  c.model_type = JsonFields(root, where).string("model_type", "");
  if (root.contains("architectures") && root.at("architectures").is_array() && !root.at("architectures").empty() &&
      root.at("architectures")[0].is_string())
    c.architecture = root.at("architectures")[0].get<std::string>();

  // Llama (LlamaForCausalLM: SmolLM2, TinyLlama, Llama-3.x) is the subset of
  // Llama-4 with RoPE on every layer, no qk-norm and no attention temperature.
  const bool llama = c.model_type == "llama";
  if (llama && k.has("sliding_window"))
    k.fail("sliding_window", "is set; Llama checkpoints attend to the full context");

  c.vocab_size = k.positive("vocab_size");
  c.hidden_size = k.positive("hidden_size");
  int64_t n_layers = k.positive("num_hidden_layers");
  // Per-layer tables are sized from it before any weight is read.
  constexpr int64_t kMaxLayers = 4096;
  if (n_layers > kMaxLayers) k.fail("num_hidden_layers", "is more than " + std::to_string(kMaxLayers));
  c.num_heads = k.positive("num_attention_heads");
  c.num_kv_heads = k.positive("num_key_value_heads", c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    k.fail("num_key_value_heads", "(" + std::to_string(c.num_kv_heads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.num_heads) + ")");
  if (!k.has("head_dim") && c.hidden_size % c.num_heads != 0)
    k.fail("head_dim", "is missing and hidden_size is not a multiple of num_attention_heads");
  c.head_dim = k.positive("head_dim", c.hidden_size / c.num_heads);
  if (c.head_dim % 2 != 0) k.fail("head_dim", "must be even (RoPE rotates pairs), got " + std::to_string(c.head_dim));
  c.intermediate_size =
      k.has("intermediate_size_mlp") ? k.positive("intermediate_size_mlp") : k.positive("intermediate_size");
  c.max_position_embeddings = k.positive("max_position_embeddings", 131072);

  c.rms_norm_eps = k.number("rms_norm_eps", 1e-5);
  if (c.rms_norm_eps <= 0) k.fail("rms_norm_eps", "must be positive");

  // RoPE: transformers 5.x writes rope_parameters; 4.x writes rope_theta + rope_scaling.
  if (k.has("rope_parameters")) {
    const json& p = k.get("rope_parameters");
    if (!p.is_object()) k.fail("rope_parameters", "must be an object");
    JsonFields pk(p, where);
    c.rope_theta = pk.number("rope_theta", k.number("rope_theta", llama ? 10000.0 : 500000.0));
    c.rope_scaling = parse_rope_type(p, "rope_parameters", k);
  } else {
    c.rope_theta = k.number("rope_theta", llama ? 10000.0 : 500000.0);
    if (k.has("rope_scaling")) c.rope_scaling = parse_rope_type(k.get("rope_scaling"), "rope_scaling", k);
  }
  if (c.rope_theta <= 0) k.fail("rope_theta", "must be positive");

  c.use_qk_norm = k.boolean("use_qk_norm", !llama);
  c.attn_temperature_tuning = k.boolean("attn_temperature_tuning", !llama);
  c.attn_scale = k.number("attn_scale", 0.1);
  c.floor_scale = k.positive("floor_scale", 8192);
  c.attention_chunk_size = k.has("attention_chunk_size") ? k.positive("attention_chunk_size") : 0;
  c.sliding_window = k.has("sliding_window") ? k.positive("sliding_window") : 0;
  c.tie_word_embeddings =
      JsonFields(root, where).boolean("tie_word_embeddings", k.boolean("tie_word_embeddings", false));

  std::string act = k.string("hidden_act", "silu");
  if (act != "silu") k.fail("hidden_act", "\"" + act + "\" is not supported (MobileLLM-Pro uses silu)");
  if (k.boolean("attention_bias", false)) k.fail("attention_bias", "is true: biases are not supported");
  if (k.boolean("mlp_bias", false)) k.fail("mlp_bias", "is true: biases are not supported");
  if (k.has("moe_layers")) {
    const json& moe = k.get("moe_layers");
    if (!moe.is_array()) k.fail("moe_layers", "must be a list");
    if (!moe.empty())
      k.fail("moe_layers", "lists mixture-of-experts layers; only dense models (MobileLLM-Pro) are supported");
  }

  // RoPE per layer: no_rope_layers[l] == 1 means layer l uses RoPE; absent or empty
  // means Llama-4's default, a no-RoPE layer every no_rope_layer_interval layers.
  std::vector<bool> use_rope(static_cast<size_t>(n_layers));
  bool has_no_rope =
      k.has("no_rope_layers") && !(k.get("no_rope_layers").is_array() && k.get("no_rope_layers").empty());
  if (has_no_rope) {
    const json& list = k.get("no_rope_layers");
    if (!list.is_array()) k.fail("no_rope_layers", "must be a list of 0/1");
    if (static_cast<int64_t>(list.size()) < n_layers)
      k.fail("no_rope_layers",
             "has " + std::to_string(list.size()) + " entries, need one per layer (" + std::to_string(n_layers) + ")");
    for (int64_t l = 0; l < n_layers; ++l) {
      const json& v = list[static_cast<size_t>(l)];
      bool ok = (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) || v.is_boolean();
      if (!ok) k.fail("no_rope_layers[" + std::to_string(l) + "]", "must be 0 or 1, got " + v.dump());
      use_rope[static_cast<size_t>(l)] = v.is_boolean() ? v.get<bool>() : v.get<int64_t>() == 1;
    }
  } else if (llama) {
    use_rope.assign(use_rope.size(), true);
  } else {
    int64_t interval = k.positive("no_rope_layer_interval", 4);
    for (int64_t l = 0; l < n_layers; ++l) use_rope[static_cast<size_t>(l)] = (l + 1) % interval != 0;
  }

  c.layers.resize(static_cast<size_t>(n_layers));
  if (k.has("layer_types")) {
    const json& list = k.get("layer_types");
    if (!list.is_array() || static_cast<int64_t>(list.size()) != n_layers)
      k.fail("layer_types", "must be a list with one entry per layer (" + std::to_string(n_layers) + ")");
    for (int64_t l = 0; l < n_layers; ++l) {
      const json& v = list[static_cast<size_t>(l)];
      std::string name = v.is_string() ? v.get<std::string>() : v.dump();
      AttentionKind kind;
      if (name == "full_attention")
        kind = AttentionKind::kFull;
      else if (name == "sliding_attention")
        kind = AttentionKind::kSliding;
      else if (name == "chunked_attention")
        kind = AttentionKind::kChunked;
      else
        k.fail("layer_types[" + std::to_string(l) + "]",
               "is \"" + name + "\"; expected full_attention, sliding_attention or chunked_attention");
      c.layers[static_cast<size_t>(l)].attention = kind;
    }
  } else {
    // Llama-4 default: RoPE layers are chunked (when a chunk size is set), no-RoPE layers global.
    for (int64_t l = 0; l < n_layers; ++l)
      c.layers[static_cast<size_t>(l)].attention = use_rope[static_cast<size_t>(l)] && c.attention_chunk_size > 0
                                                       ? AttentionKind::kChunked
                                                       : AttentionKind::kFull;
  }
  for (int64_t l = 0; l < n_layers; ++l) {
    LayerSpec& layer = c.layers[static_cast<size_t>(l)];
    layer.use_rope = use_rope[static_cast<size_t>(l)];
    if (layer.attention == AttentionKind::kSliding && c.sliding_window <= 0)
      k.fail("sliding_window", "must be set: layer " + std::to_string(l) + " is sliding_attention");
    if (layer.attention == AttentionKind::kChunked && c.attention_chunk_size <= 0)
      k.fail("attention_chunk_size", "must be set: layer " + std::to_string(l) + " is chunked_attention");
  }

  c.bos_token_id = JsonFields(root, where).integer("bos_token_id", k.integer("bos_token_id", -1));
  c.eos_token_ids = JsonFields(root, where).has("eos_token_id") ? JsonFields(root, where).id_list("eos_token_id")
                                                                : k.id_list("eos_token_id");
  c.pad_token_id = JsonFields(root, where).integer("pad_token_id", k.integer("pad_token_id", -1));
  auto check_id = [&](int64_t id, const char* key) {
    if (id < -1 || id >= c.vocab_size)
      k.fail(key, "is " + std::to_string(id) + ", outside the vocabulary (" + std::to_string(c.vocab_size) + ")");
  };
  check_id(c.bos_token_id, "bos_token_id");
  check_id(c.pad_token_id, "pad_token_id");
  for (int64_t id : c.eos_token_ids) check_id(id, "eos_token_id");
  return c;
}

GenerationDefaults parse_generation_config(const json& j, const std::string& where) {
  JsonFields k(j, where);
  GenerationDefaults g;
  g.do_sample = k.boolean("do_sample", false);
  g.temperature = k.number("temperature", 1.0);
  g.top_p = k.number("top_p", 1.0);
  g.top_k = k.integer("top_k", 0);
  g.min_p = k.number("min_p", 0.0);
  g.repetition_penalty = k.number("repetition_penalty", 1.0);
  g.eos_token_ids = k.id_list("eos_token_id");
  if (g.temperature < 0) k.fail("temperature", "must not be negative");
  if (g.top_p <= 0 || g.top_p > 1) k.fail("top_p", "must be in (0, 1]");
  if (g.top_k < 0) k.fail("top_k", "must not be negative");
  if (g.min_p < 0 || g.min_p > 1) k.fail("min_p", "must be in [0, 1]");
  if (g.repetition_penalty <= 0) k.fail("repetition_penalty", "must be positive");
  return g;
}

ModelConfig load_model_config(const std::filesystem::path& dir) {
  auto path = dir / "config.json";
  if (!std::filesystem::exists(path))
    throw Error(dir.string() + ": no config.json (is this a Hugging Face checkpoint directory?)");
  return parse_model_config(read_json_file(path), path.string());
}

GenerationDefaults load_generation_config(const std::filesystem::path& dir) {
  auto path = dir / "generation_config.json";
  if (!std::filesystem::exists(path)) return GenerationDefaults{};
  return parse_generation_config(read_json_file(path), path.string());
}

json model_config_to_json(const ModelConfig& c) {
  json j;
  j["architectures"] = json::array({c.architecture.empty() ? "MobileLLMP1ForCausalLM" : c.architecture});
  j["model_type"] = c.model_type.empty() ? "llama4_text" : c.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;  // Llama-4 names the MoE width so; unused by dense models
  j["intermediate_size_mlp"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_layers();
  j["num_attention_heads"] = c.num_heads;
  j["num_key_value_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.llama3) {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_scaling.factor},
                         {"low_freq_factor", c.rope_scaling.low_freq_factor},
                         {"high_freq_factor", c.rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["use_qk_norm"] = c.use_qk_norm;
  j["attn_temperature_tuning"] = c.attn_temperature_tuning;
  j["attn_scale"] = c.attn_scale;
  j["floor_scale"] = c.floor_scale;
  j["attention_chunk_size"] = c.attention_chunk_size > 0 ? json(c.attention_chunk_size) : json(nullptr);
  j["sliding_window"] = c.sliding_window > 0 ? json(c.sliding_window) : json(nullptr);
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["hidden_act"] = "silu";
  j["attention_bias"] = false;
  j["moe_layers"] = json::array();
  json no_rope = json::array(), types = json::array();
  for (const auto& layer : c.layers) {
    no_rope.push_back(layer.use_rope ? 1 : 0);
    types.push_back(attention_kind_name(layer.attention));
  }
  j["no_rope_layers"] = no_rope;
  j["layer_types"] = types;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_ids;
  j["pad_token_id"] = c.pad_token_id;
  j["torch_dtype"] = "bfloat16";
  return j;
}

}  // namespace mobilellm::model
