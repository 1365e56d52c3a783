#pragma once
// The model's shape and every architectural choice, read from a Hugging Face
// config.json (and generation_config.json). Nothing the config can express is
// hard-coded elsewhere.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mobilellm::model {

enum class AttentionKind : uint8_t { kFull, kSliding, kChunked };
const char* attention_kind_name(AttentionKind kind);

struct RopeScaling {
  bool llama3 = false;  // false: plain RoPE
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct LayerSpec {
  AttentionKind attention = AttentionKind::kFull;
  bool use_rope = true;
};

struct ModelConfig {
  std::string model_type;
  std::string architecture;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;  // the dense SwiGLU width (intermediate_size_mlp in Llama-4 configs)
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-5;
  double rope_theta = 500000.0;
  RopeScaling rope_scaling;
  bool use_qk_norm = true;
  bool attn_temperature_tuning = true;
  double attn_scale = 0.1;
  int64_t floor_scale = 8192;
  int64_t sliding_window = 0;        // 0: no sliding layers
  int64_t attention_chunk_size = 0;  // 0: no chunked layers
  bool tie_word_embeddings = true;
  std::vector<LayerSpec> layers;
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  int64_t pad_token_id = -1;
  // Chosen by the loader, not read from config.json: a model file's index
  // "kv_cache" (docs/FORMAT.md; int8 is spec §4.4).
  bool int8_kv_cache = false;

  int64_t num_layers() const { return static_cast<int64_t>(layers.size()); }
  int64_t q_dim() const { return num_heads * head_dim; }
  int64_t kv_dim() const { return num_kv_heads * head_dim; }
  int64_t parameter_count() const;
  // Throws Error naming the first id outside 0..vocab_size-1 and its index.
  void check_token_ids(std::span<const int32_t> ids) const;
};

// Sampling defaults shipped with a checkpoint (generation_config.json).
struct GenerationDefaults {
  bool do_sample = true;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;
  double min_p = 0.0;
  double repetition_penalty = 1.0;
  std::vector<int64_t> eos_token_ids;  // empty: use the model's
};

// The first position a query at position p attends to in a layer of this
// kind: it sees [first_visible_position(…), p] (sliding: i − W < j ≤ i).
int64_t first_visible_position(const ModelConfig& config, AttentionKind kind, int64_t p);

// The text of config.json or generation_config.json as a JSON document, with
// nesting bounded (runtime/json_depth.h). `where` names the source in error
// messages (a file path).
nlohmann::json parse_config_json(const std::string& text, const std::string& where);
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& where);
GenerationDefaults parse_generation_config(const nlohmann::json& json, const std::string& where);

ModelConfig load_model_config(const std::filesystem::path& checkpoint_dir);
// Defaults when the file is absent.
GenerationDefaults load_generation_config(const std::filesystem::path& checkpoint_dir);

nlohmann::json model_config_to_json(const ModelConfig& config);

}  // namespace mobilellm::model
