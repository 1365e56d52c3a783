// Weight binding for model files: every name, type and shape is checked
// against the config; the converter wrote them, but the file is input.
#include <cstring>

#include "model/tensor_table.h"
#include "model/weights.h"
#include "runtime/error.h"
#include "runtime/shape_text.h"

namespace mobilellm::model {
namespace {

using format::TensorType;

class FileBinder {
 public:
  FileBinder(const format::ModelFile& file) : file_(file) {}

  const format::TensorInfo& find(const TensorSpec& spec) {
    const format::TensorInfo* t = file_.find(spec.name);
    if (!t) throw Error(file_.path().string() + ": model file has no tensor \"" + spec.name + "\"");
    if (t->shape != spec.shape)
      throw Error(file_.path().string() + ": tensor \"" + spec.name + "\" has shape " + shape_text(t->shape) +
                  ", expected " + shape_text(spec.shape) + " from its config");
    return *t;
  }

  // A matrix in the file's type: int4, or float (a float model, or the
  // converter's fallback for a shape int4 cannot hold).
  Linear matrix(const TensorSpec& spec) {
    const format::TensorInfo& t = find(spec);
    const int64_t rows = spec.shape[0], cols = spec.shape[1];
    if (const std::optional<quant::Q4Scheme> scheme = format::q4_scheme(t.type))
      return Linear::of(quant::q4_view(*scheme, rows, cols, file_.data(t)));
    const DType dtype = t.type == TensorType::kBF16  ? DType::kBF16
                        : t.type == TensorType::kF16 ? DType::kF16
                                                     : DType::kF32;
    return Linear::of(kernels::WeightMatrix{file_.data(t), dtype, rows, cols});
  }

  std::vector<float> vector(const TensorSpec& spec) {
    const format::TensorInfo& t = find(spec);
    if (t.type != TensorType::kF32)
      throw Error(file_.path().string() + ": tensor \"" + spec.name + "\" is " + format::tensor_type_name(t.type) +
                  "; norm weights are stored as f32");
    std::vector<float> out(static_cast<size_t>(spec.shape[0]));
    std::memcpy(out.data(), file_.data(t), out.size() * sizeof(float));
    return out;
  }

 private:
  const format::ModelFile& file_;
};

}  // namespace

ModelWeights bind_file_weights(const format::ModelFile& file, const ModelConfig& c) {
  FileBinder b(file);
  const TensorTable table = tensor_table(c, file.find("lm_head.weight") || !c.tie_word_embeddings);
  return bind_table(table, b);
}

}  // namespace mobilellm::model
