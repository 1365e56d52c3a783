#include "model/weights.h"

#include <set>

#include "model/tensor_table.h"
#include "runtime/error.h"
#include "runtime/shape_text.h"

namespace mobilellm::model {
namespace {

class Binder {
 public:
  Binder(const io::SafetensorsArchive& archive) : archive_(archive), k_(kernels::float_kernels()) {}

  // The first of the tensor's accepted spellings the checkpoint has.
  const io::TensorEntry& find(const TensorSpec& spec) {
    const io::TensorEntry* t = nullptr;
    for (const auto& name : spec.sources)
      if ((t = archive_.find(name))) break;
    if (!t)
      throw Error("checkpoint is missing tensor \"" + spec.name + "\" (expected shape " + shape_text(spec.shape) + ")");
    if (t->shape != spec.shape)
      throw Error("tensor \"" + t->name + "\" in " + t->file.string() + " has shape " + shape_text(t->shape) +
                  ", expected " + shape_text(spec.shape) + " from config.json");
    used_.insert(t->name);
    return *t;
  }

  Linear matrix(const TensorSpec& spec) {
    const io::TensorEntry& t = find(spec);
    return Linear::of(kernels::WeightMatrix{t.data, checkpoint_dtype(t), t.shape[0], t.shape[1]});
  }

  std::vector<float> vector(const TensorSpec& spec) {
    const io::TensorEntry& t = find(spec);
    std::vector<float> out(static_cast<size_t>(spec.shape[0]));
    k_.to_float(t.data, checkpoint_dtype(t), spec.shape[0], out.data());
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
  const kernels::FloatKernels& k_;
  std::set<std::string> used_;
};

}  // namespace

bool ModelWeights::any_int4() const {
  if (embedding.int4() || output.int4()) return true;
  for (const LayerWeights& l : layers)
    for (const Linear* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      if (m->int4()) return true;
  return false;
}

ModelWeights bind_weights(const io::SafetensorsArchive& archive, const ModelConfig& c) {
  Binder b(archive);
  const TensorTable table = tensor_table(c, archive.find("lm_head.weight") || !c.tie_word_embeddings);
  ModelWeights w = bind_table(table, b);
  b.check_all_used();
  return w;
}

}  // namespace mobilellm::model
