#pragma once
// Binds checkpoint tensors to the layers of the model, validating every name,
// dtype and shape against the config. Linear weights stay in the mapping in
// their stored type; the small norm vectors are converted to fp32.
#include <string>
#include <utility>
#include <vector>

#include "format/model_file.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/linear.h"
#include "model/tensor_table.h"

namespace mobilellm::model {

struct LayerWeights {
  std::vector<float> attn_norm;  // input_layernorm
  std::vector<float> ffn_norm;   // post_attention_layernorm
  Linear wq, wk, wv, wo;
  Linear w_gate, w_up, w_down;
};

struct ModelWeights {
  Linear embedding;  // [vocab][hidden]
  Linear output;     // [vocab][hidden]; the embedding when tied
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;

  // True when any matrix is int4 (an int4 model file).
  bool any_int4() const;
};

// The weights of every tensor of `table`, each from `binder.matrix(spec)`
// (a Linear) or `binder.vector(spec)` (a norm vector in fp32): the one walk
// over the table that both loaders share.
template <class Binder>
ModelWeights bind_table(const TensorTable& table, Binder& binder) {
  ModelWeights w;
  w.embedding = binder.matrix(table.embedding);
  w.output = table.output ? binder.matrix(*table.output) : w.embedding;
  w.final_norm = binder.vector(table.final_norm);
  for (const LayerTensors& t : table.layers) {
    LayerWeights& l = w.layers.emplace_back();
    l.attn_norm = binder.vector(t.attn_norm);
    l.ffn_norm = binder.vector(t.ffn_norm);
    for (auto [linear, spec] : {std::pair{&l.wq, &t.wq},
                                {&l.wk, &t.wk},
                                {&l.wv, &t.wv},
                                {&l.wo, &t.wo},
                                {&l.w_gate, &t.w_gate},
                                {&l.w_up, &t.w_up},
                                {&l.w_down, &t.w_down}})
      *linear = binder.matrix(*spec);
  }
  return w;
}

// Throws Error naming the tensor for a missing tensor, a wrong shape or dtype,
// and lists tensors the model does not use.
ModelWeights bind_weights(const io::SafetensorsArchive& archive, const ModelConfig& config);

// Binds a model file's tensors (docs/FORMAT.md) the same way: float and int4
// matrices alike pointing into the mapping.
ModelWeights bind_file_weights(const format::ModelFile& file, const ModelConfig& config);

}  // namespace mobilellm::model
