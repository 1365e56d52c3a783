#include "model/weights.h"

#include <cstring>
#include <set>

#include "runtime/error.h"

namespace mobilellm::model {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

DType weight_dtype(const io::TensorEntry& t) {
  if (t.dtype == "BF16") return DType::kBF16;
  if (t.dtype == "F16") return DType::kF16;
  if (t.dtype == "F32") return DType::kF32;
  throw Error("tensor \"" + t.name + "\" in " + t.file.string() + " has dtype " + t.dtype +
              "; supported weight dtypes are BF16, F16 and F32");
}

class Binder {
 public:
  Binder(const io::SafetensorsArchive& archive) : archive_(archive) {}

  const io::TensorEntry& find(const std::string& name, const std::vector<int64_t>& shape) {
    const io::TensorEntry* t = archive_.find(name);
    if (!t) throw Error("checkpoint is missing tensor \"" + name + "\" (expected shape " + shape_text(shape) + ")");
    if (t->shape != shape)
      throw Error("tensor \"" + name + "\" in " + t->file.string() + " has shape " + shape_text(t->shape) +
                  ", expected " + shape_text(shape) + " from config.json");
    used_.insert(name);
    return *t;
  }

  // One of several accepted spellings (feed_forward. / mlp.).
  const io::TensorEntry& find_any(const std::vector<std::string>& names, const std::vector<int64_t>& shape) {
    for (const auto& n : names)
      if (archive_.find(n)) return find(n, shape);
    return find(names.front(), shape);
  }

  kernels::WeightMatrix matrix(const io::TensorEntry& t) {
    return {t.data, weight_dtype(t), t.shape[0], t.shape[1]};
  }

  std::vector<float> vector(const std::string& name, int64_t n) {
    const io::TensorEntry& t = find(name, {n});
    DType dtype = weight_dtype(t);
    std::vector<float> out(static_cast<size_t>(n));
    const uint8_t* p = t.data;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t half;
      switch (dtype) {
        case DType::kF32: std::memcpy(&out[i], p + 4 * i, 4); break;
        case DType::kBF16: std::memcpy(&half, p + 2 * i, 2); out[i] = bf16_to_float(half); break;
        case DType::kF16: std::memcpy(&half, p + 2 * i, 2); out[i] = f16_to_float(half); break;
      }
    }
    return out;
  }

  void check_all_used() const {
    std::vector<std::string> unknown;
    for (const auto& [name, entry] : archive_.tensors())
      if (!used_.count(name) && !is_quantizer_tensor(name)) unknown.push_back(name);
    if (unknown.empty()) return;
    std::string list;
    for (size_t i = 0; i < unknown.size() && i < 8; ++i) list += (i ? ", " : "") + ("\"" + unknown[i] + "\"");
    if (unknown.size() > 8) list += ", … (" + std::to_string(unknown.size()) + " in all)";
    throw Error("checkpoint has tensors this model does not use: " + list);
  }

 private:
  const io::SafetensorsArchive& archive_;
  std::set<std::string> used_;
};

}  // namespace

bool is_quantizer_tensor(const std::string& name) {
  static const std::string suffix = ".weight_fake_quantizer.scale";
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

ModelWeights bind_weights(const io::SafetensorsArchive& archive, const ModelConfig& c) {
  Binder b(archive);
  ModelWeights w;
  const int64_t h = c.hidden_size;
  w.embedding = b.matrix(b.find("model.embed_tokens.weight", {c.vocab_size, h}));
  if (archive.find("lm_head.weight") || !c.tie_word_embeddings)
    w.output = b.matrix(b.find("lm_head.weight", {c.vocab_size, h}));
  else
    w.output = w.embedding;
  w.final_norm = b.vector("model.norm.weight", h);
  for (int64_t l = 0; l < c.num_layers(); ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = b.vector(p + "input_layernorm.weight", h);
    lw.ffn_norm = b.vector(p + "post_attention_layernorm.weight", h);
    lw.wq = b.matrix(b.find(p + "self_attn.q_proj.weight", {c.q_dim(), h}));
    lw.wk = b.matrix(b.find(p + "self_attn.k_proj.weight", {c.kv_dim(), h}));
    lw.wv = b.matrix(b.find(p + "self_attn.v_proj.weight", {c.kv_dim(), h}));
    lw.wo = b.matrix(b.find(p + "self_attn.o_proj.weight", {h, c.q_dim()}));
    auto ffn = [&](const char* name, std::vector<int64_t> shape) {
      return b.matrix(b.find_any({p + "feed_forward." + name, p + "mlp." + name}, shape));
    };
    lw.w_gate = ffn("gate_proj.weight", {c.intermediate_size, h});
    lw.w_up = ffn("up_proj.weight", {c.intermediate_size, h});
    lw.w_down = ffn("down_proj.weight", {h, c.intermediate_size});
    w.layers.push_back(std::move(lw));
  }
  b.check_all_used();
  return w;
}

}  // namespace mobilellm::model
