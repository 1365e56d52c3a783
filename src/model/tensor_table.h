#pragma once
// The tensors of the model, in one place for the converter and both weight
// loaders: each tensor's name (as a model file stores it), the spellings a
// checkpoint may use for it, its shape from the config, and whether it is a
// linear (quantizable) matrix or a norm vector.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/config.h"
#include "runtime/dtype.h"

namespace mobilellm::model {

struct TensorSpec {
  std::string name;
  std::vector<std::string> sources;  // name first; `mlp.` for `feed_forward.` in checkpoints
  std::vector<int64_t> shape;
  bool matrix = true;
};

struct LayerTensors {
  TensorSpec attn_norm;  // input_layernorm
  TensorSpec wq, wk, wv, wo;
  TensorSpec ffn_norm;  // post_attention_layernorm
  TensorSpec w_gate, w_up, w_down;
};

struct TensorTable {
  TensorSpec embedding;
  std::vector<LayerTensors> layers;
  TensorSpec final_norm;
  std::optional<TensorSpec> output;  // lm_head.weight, absent when tied to the embedding

  // Every tensor in the order a model file stores them.
  std::vector<const TensorSpec*> all() const;
};

// `separate_output`: the checkpoint has an lm_head.weight, or the config does
// not tie it to the embedding.
TensorTable tensor_table(const ModelConfig& config, bool separate_output);

// A checkpoint tensor's element type; throws Error naming the tensor for one
// the model cannot use.
DType checkpoint_dtype(const io::TensorEntry& tensor);

// Tensors that quantization-aware checkpoints carry beside the weights
// (`<linear>.weight_fake_quantizer.scale`): recognised, not used by the float path.
bool is_quantizer_tensor(const std::string& name);
// "<linear>.weight_fake_quantizer.scale" for a linear layer's "<linear>.weight".
std::string quantizer_tensor_of(const std::string& weight_name);
// The other way: "<linear>.weight" for a quantizer tensor's name.
std::string weight_of_quantizer_tensor(const std::string& quantizer_name);

}  // namespace mobilellm::model
