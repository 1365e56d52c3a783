#include "model/tensor_table.h"

#include <string_view>

#include "runtime/error.h"

namespace mobilellm::model {
namespace {

constexpr std::string_view kQuantizerSuffix = ".weight_fake_quantizer.scale";
constexpr std::string_view kWeightSuffix = ".weight";

TensorSpec matrix(const std::string& name, int64_t rows, int64_t cols) { return {name, {name}, {rows, cols}, true}; }
TensorSpec norm(const std::string& name, int64_t n) { return {name, {name}, {n}, false}; }

}  // namespace

TensorTable tensor_table(const ModelConfig& c, bool separate_output) {
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  TensorTable table;
  table.embedding = matrix("model.embed_tokens.weight", c.vocab_size, h);
  for (int64_t l = 0; l < c.num_layers(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto ffn = [&](const char* name, int64_t rows, int64_t cols) {
      TensorSpec t = matrix(p + "feed_forward." + name, rows, cols);
      t.sources.push_back(p + "mlp." + name);
      return t;
    };
    table.layers.push_back(
        {norm(p + "input_layernorm.weight", h), matrix(p + "self_attn.q_proj.weight", c.q_dim(), h),
         matrix(p + "self_attn.k_proj.weight", c.kv_dim(), h), matrix(p + "self_attn.v_proj.weight", c.kv_dim(), h),
         matrix(p + "self_attn.o_proj.weight", h, c.q_dim()), norm(p + "post_attention_layernorm.weight", h),
         ffn("gate_proj.weight", inter, h), ffn("up_proj.weight", inter, h), ffn("down_proj.weight", h, inter)});
  }
  table.final_norm = norm("model.norm.weight", h);
  if (separate_output) table.output = matrix("lm_head.weight", c.vocab_size, h);
  return table;
}

std::vector<const TensorSpec*> TensorTable::all() const {
  std::vector<const TensorSpec*> out{&embedding};
  for (const LayerTensors& l : layers)
    for (const TensorSpec* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down})
      out.push_back(t);
  out.push_back(&final_norm);
  if (output) out.push_back(&*output);
  return out;
}

DType checkpoint_dtype(const io::TensorEntry& t) {
  if (t.dtype == "BF16") return DType::kBF16;
  if (t.dtype == "F16") return DType::kF16;
  if (t.dtype == "F32") return DType::kF32;
  throw Error("tensor \"" + t.name + "\" in " + t.file.string() + " has dtype " + t.dtype +
              "; supported weight dtypes are BF16, F16 and F32");
}

bool is_quantizer_tensor(const std::string& name) {
  return name.size() > kQuantizerSuffix.size() &&
         name.compare(name.size() - kQuantizerSuffix.size(), kQuantizerSuffix.size(), kQuantizerSuffix) == 0;
}

std::string quantizer_tensor_of(const std::string& weight_name) {
  return weight_name.substr(0, weight_name.size() - kWeightSuffix.size()) + std::string(kQuantizerSuffix);
}

std::string weight_of_quantizer_tensor(const std::string& quantizer_name) {
  return quantizer_name.substr(0, quantizer_name.size() - kQuantizerSuffix.size()) + std::string(kWeightSuffix);
}

}  // namespace mobilellm::model
