#include "model/random_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "io/atomic_output.h"
#include "io/safetensors.h"
#include "runtime/dtype.h"
#include "runtime/error.h"

namespace mobilellm::model {
namespace {

ModelConfig base_config() {
  ModelConfig c;
  c.model_type = "llama4_text";
  c.architecture = "MobileLLMP1ForCausalLM";
  c.vocab_size = 202048;
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500000.0;
  c.use_qk_norm = true;
  c.attn_temperature_tuning = true;
  c.attn_scale = 0.1;
  c.floor_scale = 8192;
  c.attention_chunk_size = 8192;
  c.tie_word_embeddings = true;
  c.bos_token_id = 200000;
  c.eos_token_ids = {200001, 200007, 200008};
  c.pad_token_id = 200018;
  return c;
}

// MobileLLM-Pro's pattern: a global layer every 4th layer and the last one,
// sliding-window layers elsewhere. RoPE placement is not published: we use
// Llama-4's default (every 4th layer, l % 4 == 3, without RoPE).
void set_layer_pattern(ModelConfig& c, int64_t n_layers) {
  c.layers.resize(static_cast<size_t>(n_layers));
  for (int64_t l = 0; l < n_layers; ++l) {
    auto& layer = c.layers[static_cast<size_t>(l)];
    layer.attention = (l % 4 == 0 || l == n_layers - 1) ? AttentionKind::kFull : AttentionKind::kSliding;
    layer.use_rope = (l + 1) % 4 != 0;
  }
}

// splitmix64: fast, seedable, and good enough for random weights.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Approximately normal(0, std): the sum of four uniform 16-bit draws (Irwin–Hall).
void fill_normal_bf16(uint16_t* out, int64_t n, float std, uint64_t seed) {
  const int n_threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  // Sum of 4 U(0,1) has mean 2 and variance 4/12.
  const float scale = std / std::sqrt(4.0f / 12.0f) / 65536.0f;
  for (int t = 0; t < n_threads; ++t) {
    threads.emplace_back([=] {
      const int64_t begin = n * t / n_threads, end = n * (t + 1) / n_threads;
      uint64_t state = seed * 0x100000001b3ull + static_cast<uint64_t>(begin);
      for (int64_t i = begin; i < end; ++i) {
        uint64_t r = next_random(state);
        float sum = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
        out[i] = float_to_bf16((sum - 2.0f * 65536.0f) * scale);
      }
    });
  }
  for (auto& th : threads) th.join();
}

void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  io::write_file_atomically(path, text.data(), text.size());
}

}  // namespace

ModelConfig preset_config(const std::string& preset) {
  ModelConfig c = base_config();
  if (preset == "pro") {
    c.hidden_size = 1280;
    c.intermediate_size = 6144;
    c.num_heads = 20;
    c.num_kv_heads = 4;
    c.head_dim = 64;
    c.sliding_window = 512;
    set_layer_pattern(c, 30);
  } else if (preset == "tiny") {
    // Every matrix width a multiple of 32, so int4 schemes hold all of them;
    // GQA 5 as in pro.
    c.hidden_size = 64;
    c.intermediate_size = 192;
    c.num_heads = 10;
    c.num_kv_heads = 2;
    c.head_dim = 16;
    c.sliding_window = 16;
    set_layer_pattern(c, 6);
  } else {
    throw Error("unknown preset \"" + preset + "\" (expected pro or tiny)");
  }
  return c;
}

void write_random_checkpoint(const ModelConfig& c, const std::filesystem::path& dir, uint64_t seed) {
  std::filesystem::create_directories(dir);
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<uint16_t> data;
  };
  std::vector<Tensor> tensors;
  uint64_t stream = seed;
  auto linear = [&](const std::string& name, int64_t rows, int64_t cols) {
    Tensor t{name, {rows, cols}, std::vector<uint16_t>(static_cast<size_t>(rows * cols))};
    fill_normal_bf16(t.data.data(), rows * cols, 0.02f, ++stream);
    tensors.push_back(std::move(t));
  };
  auto ones = [&](const std::string& name, int64_t n) {
    tensors.push_back({name, {n}, std::vector<uint16_t>(static_cast<size_t>(n), float_to_bf16(1.0f))});
  };
  const int64_t h = c.hidden_size;
  linear("model.embed_tokens.weight", c.vocab_size, h);
  for (int64_t l = 0; l < c.num_layers(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    ones(p + "input_layernorm.weight", h);
    linear(p + "self_attn.q_proj.weight", c.q_dim(), h);
    linear(p + "self_attn.k_proj.weight", c.kv_dim(), h);
    linear(p + "self_attn.v_proj.weight", c.kv_dim(), h);
    linear(p + "self_attn.o_proj.weight", h, c.q_dim());
    ones(p + "post_attention_layernorm.weight", h);
    linear(p + "feed_forward.gate_proj.weight", c.intermediate_size, h);
    linear(p + "feed_forward.up_proj.weight", c.intermediate_size, h);
    linear(p + "feed_forward.down_proj.weight", h, c.intermediate_size);
  }
  ones("model.norm.weight", h);
  if (!c.tie_word_embeddings) linear("lm_head.weight", c.vocab_size, h);

  std::vector<io::TensorToWrite> out;
  for (const auto& t : tensors) out.push_back({t.name, "BF16", t.shape, t.data.data(), t.data.size() * 2});
  io::write_safetensors(dir / "model.safetensors", out, {{"format", "pt"}, {"mobilellm", "random weights"}});

  nlohmann::json config = model_config_to_json(c);
  write_json(dir / "config.json", config);
  nlohmann::json generation = {{"bos_token_id", c.bos_token_id},
                               {"eos_token_id", c.eos_token_ids},
                               {"pad_token_id", c.pad_token_id},
                               {"do_sample", true},
                               {"temperature", 0.6},
                               {"top_p", 0.9}};
  write_json(dir / "generation_config.json", generation);
}

}  // namespace mobilellm::model
