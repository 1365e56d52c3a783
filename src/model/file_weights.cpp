// Weight binding for model files: every name, type and shape is checked
// against the config; the converter wrote them, but the file is input.
#include <cstring>

#include "model/weights.h"
#include "runtime/error.h"

namespace mobilellm::model {
namespace {

using format::TensorType;

class FileBinder {
 public:
  FileBinder(const format::ModelFile& file) : file_(file) {}

  const format::TensorInfo& find(const std::string& name, const std::vector<int64_t>& shape) {
    const format::TensorInfo* t = file_.find(name);
    if (!t) throw Error(file_.path().string() + ": model file has no tensor \"" + name + "\"");
    if (t->shape != shape)
      throw Error(file_.path().string() + ": tensor \"" + name + "\" has shape " + text(t->shape) + ", expected " +
                  text(shape) + " from its config");
    return *t;
  }

  // A matrix of the file's scheme: int4 into q, float into f.
  void matrix(const std::string& name, const std::vector<int64_t>& shape, kernels::WeightMatrix& f,
              quant::Q4Matrix& q) {
    const format::TensorInfo& t = find(name, shape);
    if (const std::optional<quant::Q4Scheme> scheme = format::q4_scheme(t.type)) {
      q = quant::q4_view(*scheme, shape[0], shape[1], file_.data(t));
      quantized_ = true;
      return;
    }
    const DType dtype = t.type == TensorType::kBF16 ? DType::kBF16 : t.type == TensorType::kF16 ? DType::kF16 : DType::kF32;
    f = {file_.data(t), dtype, shape[0], shape[1]};
  }

  std::vector<float> vector(const std::string& name, int64_t n) {
    const format::TensorInfo& t = find(name, {n});
    if (t.type != TensorType::kF32)
      throw Error(file_.path().string() + ": tensor \"" + name + "\" is " + format::tensor_type_name(t.type) +
                  "; norm weights are stored as f32");
    std::vector<float> out(static_cast<size_t>(n));
    std::memcpy(out.data(), file_.data(t), static_cast<size_t>(n) * sizeof(float));
    return out;
  }

  // Any int4 matrix makes the int4 path; a float matrix among them is the
  // converter's fallback for a shape int4 cannot hold, and runs in float.
  bool quantized() const { return quantized_; }

 private:
  static std::string text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }

  const format::ModelFile& file_;
  bool quantized_ = false;
};

}  // namespace

ModelWeights bind_file_weights(const format::ModelFile& file, const ModelConfig& c) {
  FileBinder b(file);
  ModelWeights w;
  const int64_t h = c.hidden_size;
  b.matrix("model.embed_tokens.weight", {c.vocab_size, h}, w.embedding, w.q_embedding);
  if (file.find("lm_head.weight") || !c.tie_word_embeddings)
    b.matrix("lm_head.weight", {c.vocab_size, h}, w.output, w.q_output);
  else
    w.output = w.embedding, w.q_output = w.q_embedding;
  w.final_norm = b.vector("model.norm.weight", h);
  for (int64_t l = 0; l < c.num_layers(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    QuantizedLayerWeights qw;
    lw.attn_norm = b.vector(p + "input_layernorm.weight", h);
    lw.ffn_norm = b.vector(p + "post_attention_layernorm.weight", h);
    b.matrix(p + "self_attn.q_proj.weight", {c.q_dim(), h}, lw.wq, qw.wq);
    b.matrix(p + "self_attn.k_proj.weight", {c.kv_dim(), h}, lw.wk, qw.wk);
    b.matrix(p + "self_attn.v_proj.weight", {c.kv_dim(), h}, lw.wv, qw.wv);
    b.matrix(p + "self_attn.o_proj.weight", {h, c.q_dim()}, lw.wo, qw.wo);
    b.matrix(p + "feed_forward.gate_proj.weight", {c.intermediate_size, h}, lw.w_gate, qw.w_gate);
    b.matrix(p + "feed_forward.up_proj.weight", {c.intermediate_size, h}, lw.w_up, qw.w_up);
    b.matrix(p + "feed_forward.down_proj.weight", {h, c.intermediate_size}, lw.w_down, qw.w_down);
    w.layers.push_back(std::move(lw));
    w.q_layers.push_back(qw);
  }
  w.quantized = b.quantized();
  if (!w.quantized) w.q_layers.clear();
  return w;
}

}  // namespace mobilellm::model
