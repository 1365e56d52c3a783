#include "model/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <regex>
#include <set>

#include "runtime/error.h"

namespace mobilellm::model {
namespace {

size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  throw Error("unexpected dtype " + dtype);
}

// transformers' Llama rotates half-dimension pairs (i, i + d/2); the engine,
// Meta's checkpoints and GGUF rotate adjacent pairs (2i, 2i+1). Reordering the
// rows of q_proj and k_proj per head turns one into the other exactly.
void interleave_rope_rows(io::SafetensorsArchive& tensors, const std::string& name, int64_t head_dim) {
  const io::TensorEntry* t = tensors.find(name);
  if (!t || t->shape.size() != 2 || t->shape[0] % head_dim != 0) return;  // binding reports it
  const size_t row_bytes = static_cast<size_t>(t->shape[1]) * dtype_bytes(t->dtype);
  auto rows = std::make_shared<std::vector<uint8_t>>(t->nbytes);
  const int64_t half = head_dim / 2;
  for (int64_t head = 0; head < t->shape[0] / head_dim; ++head)
    for (int64_t i = 0; i < head_dim; ++i) {
      int64_t from = head * head_dim + (i % 2 == 0 ? i / 2 : half + i / 2);
      std::memcpy(rows->data() + static_cast<size_t>(head * head_dim + i) * row_bytes,
                  t->data + static_cast<size_t>(from) * row_bytes, row_bytes);
    }
  io::TensorEntry entry = *t;
  entry.data = rows->data();
  tensors.put(std::move(entry), std::move(rows));
}

Checkpoint open_directory(const std::filesystem::path& dir) {
  Checkpoint c{load_model_config(dir), load_generation_config(dir), io::SafetensorsArchive::open(dir), nullptr, {}};
  if (c.config.model_type == "llama")
    for (int64_t l = 0; l < c.config.num_layers(); ++l) {
      std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
      interleave_rope_rows(c.tensors, p + "q_proj.weight", c.config.head_dim);
      interleave_rope_rows(c.tensors, p + "k_proj.weight", c.config.head_dim);
    }
  return c;
}

// GGUF tensor names (llama.cpp's llama / llama4 table) → Hugging Face names.
std::string hf_name(const std::string& gguf_name) {
  static const std::pair<const char*, const char*> kGlobal[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"},
  };
  for (auto [from, to] : kGlobal)
    if (gguf_name == from) return to;
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "input_layernorm.weight"}, {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},   {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},   {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},    {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  static const std::regex kBlock(R"(blk\.(\d{1,6})\.(.+))");
  std::smatch m;
  if (std::regex_match(gguf_name, m, kBlock))
    for (auto [from, to] : kLayer)
      if (m[2] == from) return "model.layers." + m[1].str() + "." + to;
  return {};
}

Checkpoint open_gguf(const std::filesystem::path& path) {
  Checkpoint c;
  c.gguf = io::GgufFile::open(path);
  c.config = gguf_model_config(*c.gguf);
  std::vector<std::string> unknown;
  for (const io::GgufTensor& t : c.gguf->tensors()) {
    std::string name = hf_name(t.name);
    if (name.empty()) {
      unknown.push_back(t.name);
      continue;
    }
    io::TensorEntry entry;
    entry.name = name;
    entry.shape.assign(t.ne.rbegin(), t.ne.rend());  // ggml lists the contiguous dimension first
    entry.file = path;
    std::shared_ptr<const void> owner;
    switch (t.type) {
      case io::GgmlType::kF32: entry.dtype = "F32"; break;
      case io::GgmlType::kF16: entry.dtype = "F16"; break;
      case io::GgmlType::kBF16: entry.dtype = "BF16"; break;
      default: {
        // Block formats are dequantized to fp32, exactly as ggml defines them.
        auto values = std::make_shared<std::vector<float>>(static_cast<size_t>(t.elements()));
        io::dequantize_row(t.type, t.data, t.elements(), values->data());
        entry.dtype = "F32";
        entry.data = reinterpret_cast<const uint8_t*>(values->data());
        entry.nbytes = values->size() * sizeof(float);
        owner = std::move(values);
      }
    }
    if (!owner) {
      entry.data = t.data;
      entry.nbytes = t.nbytes;
    }
    c.gguf_tensors[entry.name] = &t;
    c.tensors.put(std::move(entry), std::move(owner));
  }
  if (!unknown.empty()) {
    std::string list;
    for (size_t i = 0; i < unknown.size() && i < 8; ++i) list += (i ? ", " : "") + ("\"" + unknown[i] + "\"");
    throw Error(
        path.string() + ": GGUF tensors this engine does not know: " + list +
        (unknown.front() == "rope_freqs.weight" ? " (Llama-3.1-style RoPE frequency factors are not supported)" : ""));
  }
  return c;
}

}  // namespace

ModelConfig gguf_model_config(const io::GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  const std::string where = f.path().string();
  if (arch != "llama" && arch != "llama4")
    throw Error(where + ": general.architecture is \"" + arch + "\"; supported: llama, llama4 (dense)");
  auto key = [&](const char* suffix) { return arch + "." + suffix; };
  auto int_or = [&](const std::string& k, int64_t fallback) { return f.find(k) ? f.get_int(k) : fallback; };
  auto positive = [&](const std::string& k, int64_t fallback) {
    int64_t v = int_or(k, fallback);
    if (v <= 0) throw Error(where + ": " + k + " must be positive, got " + std::to_string(v));
    return v;
  };
  if (arch == "llama4" && int_or(key("expert_count"), 0) != 0)
    throw Error(where + ": " + key("expert_count") + " is " + std::to_string(f.get_int(key("expert_count"))) +
                "; only dense Llama-4 models (no experts) are supported");
  if (f.find(key("rope.scaling.type")) && f.get_string(key("rope.scaling.type")) != "none")
    throw Error(where + ": " + key("rope.scaling.type") + " \"" + f.get_string(key("rope.scaling.type")) +
                "\" is not supported");
  if (f.find(key("attention.sliding_window")))
    throw Error(where + ": " + key("attention.sliding_window") + " is not supported for " + arch);

  ModelConfig c;
  c.model_type = arch == "llama" ? "llama" : "llama4_text";
  c.architecture = arch == "llama" ? "LlamaForCausalLM" : "Llama4ForCausalLM";
  c.hidden_size = positive(key("embedding_length"), 0);
  const int64_t n_layers = positive(key("block_count"), 0);
  c.num_heads = positive(key("attention.head_count"), 0);
  if (f.find(key("attention.head_count_kv")) &&
      f.find(key("attention.head_count_kv"))->type() == io::GgufValueType::kArray)
    throw Error(where + ": per-layer " + key("attention.head_count_kv") + " is not supported");
  c.num_kv_heads = positive(key("attention.head_count_kv"), c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    throw Error(where + ": " + key("attention.head_count_kv") + " must divide " + key("attention.head_count"));
  if (c.hidden_size % c.num_heads != 0 && !f.find(key("attention.key_length")))
    throw Error(where + ": " + key("attention.key_length") +
                " is missing and the embedding is not a multiple of the heads");
  c.head_dim = positive(key("attention.key_length"), c.hidden_size / c.num_heads);
  if (positive(key("attention.value_length"), c.head_dim) != c.head_dim)
    throw Error(where + ": key and value head sizes differ; not supported");
  if (positive(key("rope.dimension_count"), c.head_dim) != c.head_dim)
    throw Error(where + ": " + key("rope.dimension_count") +
                " differs from the head size (partial RoPE is not supported)");
  if (c.head_dim % 2 != 0) throw Error(where + ": the head size must be even");
  c.intermediate_size = positive(key("feed_forward_length"), 0);
  c.max_position_embeddings = positive(key("context_length"), 0);
  c.rms_norm_eps = f.get_float(key("attention.layer_norm_rms_epsilon"));
  if (!(c.rms_norm_eps > 0)) throw Error(where + ": " + key("attention.layer_norm_rms_epsilon") + " must be positive");
  c.rope_theta = f.find(key("rope.freq_base")) ? f.get_float(key("rope.freq_base")) : 10000.0;
  if (!(c.rope_theta > 0)) throw Error(where + ": " + key("rope.freq_base") + " must be positive");
  const io::GgufTensor* embedding = f.find_tensor("token_embd.weight");
  if (!embedding || embedding->ne.size() != 2) throw Error(where + ": no 2-D token_embd.weight tensor");
  c.vocab_size = embedding->ne[1];
  if (f.find(key("vocab_size")) && f.get_int(key("vocab_size")) != c.vocab_size)
    throw Error(where + ": " + key("vocab_size") + " differs from token_embd.weight's rows");
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;

  c.layers.resize(static_cast<size_t>(n_layers));
  if (arch == "llama") {
    c.use_qk_norm = false;
    c.attn_temperature_tuning = false;
  } else {
    // llama.cpp's Llama-4 graph: every 4th layer is global without RoPE (with
    // the attention temperature), the others RoPE + L2 qk-norm in 8192-token chunks.
    c.use_qk_norm = true;
    c.attn_temperature_tuning = true;
    c.attention_chunk_size = 8192;
    for (int64_t l = 0; l < n_layers; ++l) {
      bool rope = (l + 1) % 4 != 0;
      c.layers[static_cast<size_t>(l)] = {rope ? AttentionKind::kChunked : AttentionKind::kFull, rope};
    }
  }
  auto token_id = [&](const char* k) {
    if (!f.find(k)) return int64_t{-1};
    int64_t id = f.get_int(k);
    if (id < 0 || id >= c.vocab_size)
      throw Error(where + ": " + k + " " + std::to_string(id) + " is outside the vocabulary");
    return id;
  };
  c.bos_token_id = token_id("tokenizer.ggml.bos_token_id");
  c.pad_token_id = token_id("tokenizer.ggml.padding_token_id");
  for (const char* k : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"})
    if (int64_t id = token_id(k);
        id >= 0 && std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), id) == c.eos_token_ids.end())
      c.eos_token_ids.push_back(id);
  return c;
}

Checkpoint open_checkpoint(const std::filesystem::path& path) {
  if (io::is_gguf_file(path)) return open_gguf(path);
  if (!std::filesystem::is_directory(path))
    throw Error(path.string() + ": neither a checkpoint directory, a GGUF file nor a mobilellm model file");
  return open_directory(path);
}

}  // namespace mobilellm::model
