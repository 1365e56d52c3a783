#pragma once
// Binds checkpoint tensors to the layers of the model, validating every name,
// dtype and shape against the config. Linear weights stay in the mapping in
// their stored type; the small norm vectors are converted to fp32.
#include <string>
#include <vector>

#include "format/model_file.h"
#include "io/safetensors.h"
#include "kernels/float_kernels.h"
#include "model/config.h"
#include "quant/q4_matrix.h"

namespace mobilellm::model {

struct LayerWeights {
  std::vector<float> attn_norm;  // input_layernorm
  std::vector<float> ffn_norm;   // post_attention_layernorm
  kernels::WeightMatrix wq, wk, wv, wo;
  kernels::WeightMatrix w_gate, w_up, w_down;
};

// The int4 matrices of a q4g32 / q4cw / q4_1 model file, in the kernels' layout.
struct QuantizedLayerWeights {
  quant::Q4Matrix wq, wk, wv, wo;
  quant::Q4Matrix w_gate, w_up, w_down;
};

struct ModelWeights {
  kernels::WeightMatrix embedding;  // [vocab][hidden]
  kernels::WeightMatrix output;     // [vocab][hidden]; the embedding when tied
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;
  // int4 models: the matrices are here instead; a matrix int4 cannot hold
  // (columns not a multiple of 32) stays a WeightMatrix, its Q4Matrix empty.
  bool quantized = false;
  quant::Q4Matrix q_embedding, q_output;
  std::vector<QuantizedLayerWeights> q_layers;
};

// Throws Error naming the tensor for a missing tensor, a wrong shape or dtype,
// and lists tensors the model does not use.
ModelWeights bind_weights(const io::SafetensorsArchive& archive, const ModelConfig& config);

// Binds a model file's tensors (docs/FORMAT.md) the same way: float matrices
// as WeightMatrix, int4 ones as Q4Matrix, all pointing into the mapping.
ModelWeights bind_file_weights(const format::ModelFile& file, const ModelConfig& config);

// Tensors that quantization-aware checkpoints carry beside the weights
// (`<linear>.weight_fake_quantizer.scale`): recognised, not used by the float path.
bool is_quantizer_tensor(const std::string& name);

}  // namespace mobilellm::model
