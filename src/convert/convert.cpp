#include "convert/convert.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "format/model_file.h"
#include "io/atomic_output.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "model/config.h"
#include "model/tensor_table.h"
#include "kernels/float_kernels.h"
#include "quant/ggml_q4_1.h"
#include "quant/int4_quant.h"
#include "quant/q4_matrix.h"
#include "runtime/aligned_buffer.h"
#include "runtime/dtype.h"
#include "runtime/error.h"
#include "runtime/shape_text.h"
#include "runtime/read_file.h"
#include "runtime/json_depth.h"
#include "runtime/thread_pool.h"

namespace mobilellm::convert {
namespace {

namespace fs = std::filesystem;
using format::TensorType;
using nlohmann::json;

// Tokenizer files of a Hugging Face release (and our tiktoken form), carried as
// blobs. tokenizer.model only when there is no tokenizer.json: the loader
// prefers the latter, and both hold the same vocabulary.
constexpr const char* kTokenizerFiles[] = {"tokenizer.json",          "tokenizer.model",     "tokenizer_config.json",
                                           "special_tokens_map.json", "chat_template.jinja", "special_tokens.tsv"};

json read_json(const fs::path& path) {
  return model::parse_config_json(read_file_bounded(path, kMaxConfigFileBytes, "JSON config"), path.string());
}

std::string read_bytes(const fs::path& path) {
  return read_file_bounded(path, kMaxTokenizerFileBytes, "tokenizer file");
}

// Row r of a checkpoint tensor as fp32; throws naming the tensor on a non-finite value.
class SourceRows {
 public:
  explicit SourceRows(const io::TensorEntry& t)
      : t_(t),
        cols_(t.shape.size() == 2 ? t.shape[1] : t.shape[0]),
        dtype_(model::checkpoint_dtype(t)),
        k_(kernels::float_kernels()) {}
  void row(int64_t r, float* out) const {
    k_.to_float(t_.data + static_cast<size_t>(r * cols_) * dtype_size(dtype_), dtype_, cols_, out);
    for (int64_t k = 0; k < cols_; ++k) {
      if (!std::isfinite(out[k]))
        throw Error("tensor \"" + t_.name + "\" in " + t_.file.string() + " holds a non-finite value (" +
                    std::to_string(out[k]) + ") at row " + std::to_string(r) + ", column " + std::to_string(k));
    }
  }

 private:
  const io::TensorEntry& t_;
  int64_t cols_;
  DType dtype_;
  const kernels::FloatKernels& k_;
};

// A learned channelwise scale tensor [rows, 1] as fp32, each finite and positive.
std::vector<float> learned_scales(const io::TensorEntry& t, int64_t rows) {
  if (t.shape != std::vector<int64_t>{rows, 1} && t.shape != std::vector<int64_t>{rows})
    throw Error("tensor \"" + t.name + "\" has shape " + shape_text(t.shape) + ", expected [" + std::to_string(rows) +
                ", 1]");
  std::vector<float> s(static_cast<size_t>(rows));
  // A [rows, 1] tensor is rows consecutive values.
  kernels::float_kernels().to_float(t.data, model::checkpoint_dtype(t), rows, s.data());
  for (int64_t r = 0; r < rows; ++r) {
    if (!std::isfinite(s[r]) || s[r] <= 0.0f)
      throw Error("tensor \"" + t.name + "\" holds scale " + std::to_string(s[r]) + " at row " + std::to_string(r) +
                  "; learned scales must be finite and positive");
  }
  return s;
}

class Converter {
 public:
  Converter(const ConvertOptions& o) : o_(o), pool_(std::max(1, o.threads)) {}

  ConvertReport run() {
    const std::optional<format::Scheme> scheme = format::parse_scheme(o_.scheme);
    if (!scheme) throw Error("--scheme " + o_.scheme + ": expected " + format::scheme_choices_text());
    scheme_ = *scheme;
    std::vector<fs::path> inputs{o_.input};
    if (fs::is_directory(o_.input))
      for (const auto& entry : fs::directory_iterator(o_.input)) inputs.push_back(entry.path());
    io::check_output_path(o_.output, o_.overwrite, inputs);
    const model::Checkpoint checkpoint = model::open_checkpoint(o_.input);
    const model::ModelConfig& config = checkpoint.config;
    const bool directory = !checkpoint.gguf;
    // A directory's own config files are kept as written; a GGUF file's metadata is written out as config.json.
    const json config_json = directory ? read_json(o_.input / "config.json") : model::model_config_to_json(config);
    const fs::path gen_path = o_.input / "generation_config.json";
    const json generation = directory && fs::exists(gen_path) ? read_json(gen_path) : json(nullptr);
    const io::SafetensorsArchive& archive = checkpoint.tensors;
    gguf_tensors_ = &checkpoint.gguf_tensors;

    const model::TensorTable table =
        model::tensor_table(config, archive.find("lm_head.weight") || !config.tie_word_embeddings);
    const std::vector<const model::TensorSpec*> tensors = table.all();

    // Resolve every tensor first: a missing one fails before any work.
    std::vector<const io::TensorEntry*> sources;
    std::set<std::string> used;
    uint64_t total = 0;
    for (const model::TensorSpec* spec : tensors) {
      const model::TensorSpec& p = *spec;
      const io::TensorEntry* t = nullptr;
      for (const auto& s : p.sources)
        if ((t = archive.find(s))) break;
      if (!t)
        throw Error(o_.input.string() + ": checkpoint is missing tensor \"" + p.sources.front() +
                    "\" (expected shape " + shape_text(p.shape) + ")");
      if (t->shape != p.shape)
        throw Error("tensor \"" + t->name + "\" in " + t->file.string() + " has shape " + shape_text(t->shape) +
                    ", expected " + shape_text(p.shape) + " from config.json");
      used.insert(t->name);
      sources.push_back(t);
      total += t->nbytes;
    }
    for (const auto& [name, entry] : archive.tensors()) {
      if (used.count(name)) continue;
      // A learned scale of a weight the model uses.
      const bool quantizer = model::is_quantizer_tensor(name) && used.count(model::weight_of_quantizer_tensor(name));
      if (quantizer) {
        quantizer_names_.insert(name);
        continue;
      }
      report_.unknown_tensors.push_back(name);
    }

    format::ModelFileWriter writer(o_.output);
    uint64_t done = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      write_tensor(writer, *tensors[i], *sources[i], archive);
      done += sources[i]->nbytes;
      if (o_.progress) o_.progress(done, total, tensors[i]->name);
    }
    report_.learned_scales_ignored = static_cast<int64_t>(quantizer_names_.size()) - report_.learned_scales_used;
    if (!directory && checkpoint.gguf->find("tokenizer.ggml.model")) {
      const std::string bytes = io::gguf_metadata_subset(*checkpoint.gguf, "tokenizer.");
      writer.add_blob(Tokenizer::kGgufTokenizerFile, bytes.data(), bytes.size());
    }
    for (const char* name : kTokenizerFiles) {
      if (!directory) break;
      const fs::path p = o_.input / name;
      if (!fs::exists(p) || (std::string(name) == "tokenizer.model" && fs::exists(o_.input / "tokenizer.json")))
        continue;
      const std::string bytes = read_bytes(p);
      writer.add_blob(name, bytes.data(), bytes.size());
    }
    json source = {{"checkpoint", fs::absolute(o_.input).string()},
                   {"random_weights", fs::exists(o_.input / "random_weights.txt")},
                   {"unknown_tensors", report_.unknown_tensors}};
    writer.finish(scheme_, format::default_kv_cache(scheme_), config_json, generation, source);
    report_.file_bytes = writer.bytes_written();
    return report_;
  }

 private:
  void write_tensor(format::ModelFileWriter& writer, const model::TensorSpec& p, const io::TensorEntry& t,
                    const io::SafetensorsArchive& archive) {
    const SourceRows src(t);
    const int64_t rows = p.shape[0], cols = p.shape.size() == 2 ? p.shape[1] : p.shape[0];
    const io::GgufTensor* stored = gguf_source(t.name);
    if (stored && scheme_ == format::Scheme::kQ4_1 && stored->type == io::GgmlType::kQ4_1 && p.matrix) {
      // The GGUF's own Q4_1 blocks, rows in the same order: no re-rounding.
      AlignedBuffer<uint8_t> packed(quant::q4_packed_bytes(quant::Q4Scheme::kAffine32, rows, cols));
      quant::q4_pack_ggml_q4_1(rows, cols, stored->data, packed.data());
      writer.add_tensor(p.name, TensorType::kQ4_1, p.shape, packed.data(), packed.size());
      ++report_.tensors_written;
      ++report_.gguf_blocks_kept;
      return;
    }
    if (stored && stored->type != io::GgmlType::kF32 && !(scheme_ == format::Scheme::kF32 && p.matrix))
      report_.gguf_requantized.push_back(stored->name + " (" + io::ggml_type_name(stored->type) + ")");
    const bool affine = scheme_ == format::Scheme::kQ4_1;
    const bool int4_scheme = p.matrix && format::is_int4(scheme_);
    // int4 groups run along the columns: a matrix they do not divide stays in
    // a float type (as llama.cpp keeps such tensors), f32 beside q4_1's exact
    // blocks, bf16 otherwise, and is reported.
    const bool quantized = int4_scheme && cols % quant::kQ4Group == 0;
    const bool kept_float = int4_scheme && !quantized;
    if (kept_float && affine) report_.kept_float.push_back(p.name);
    if (kept_float && !affine) report_.kept_bf16.push_back(p.name + " " + shape_text(p.shape));
    if (!quantized) {
      // Norms are always f32; matrices take the scheme's float type.
      const TensorType type = (!p.matrix || scheme_ == format::Scheme::kF32 || (kept_float && affine))
                                  ? TensorType::kF32
                                  : TensorType::kBF16;
      const int64_t n_rows = p.shape.size() == 2 ? rows : 1;
      AlignedBuffer<uint8_t> out(static_cast<size_t>(rows * (p.shape.size() == 2 ? cols : 1)) *
                                 (type == TensorType::kF32 ? 4 : 2));
      pool_.split(n_rows, 1, [&](int64_t begin, int64_t end, int) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = begin; r < end; ++r) {
          src.row(r, row.data());
          for (int64_t k = 0; k < cols; ++k) {
            if (type == TensorType::kF32) {
              std::memcpy(out.data() + 4 * (r * cols + k), &row[k], 4);
            } else {
              const uint16_t b = float_to_bf16(row[k]);
              std::memcpy(out.data() + 2 * (r * cols + k), &b, 2);
            }
          }
        }
      });
      writer.add_tensor(p.name, type, p.shape, out.data(), out.size());
      ++report_.tensors_written;
      return;
    }
    if (affine) return write_q4_1(writer, p, src);
    const bool group = scheme_ == format::Scheme::kQ4G32;
    const quant::Q4Scheme scheme = group ? quant::Q4Scheme::kGroup32 : quant::Q4Scheme::kChannel;
    std::vector<float> row_scale;
    if (!group) {
      if (const io::TensorEntry* s = archive.find(model::quantizer_tensor_of(t.name))) {
        row_scale = learned_scales(*s, rows);
        ++report_.learned_scales_used;
      }
    }
    const bool have_learned = !row_scale.empty();
    if (!have_learned) row_scale.assign(static_cast<size_t>(rows), 0.0f);
    const int64_t groups = cols / quant::kQ4Group;
    AlignedBuffer<int8_t> codes(static_cast<size_t>(rows * cols));
    std::vector<uint16_t> amax(group ? static_cast<size_t>(rows * groups) : 0);
    AlignedBuffer<uint8_t> packed(quant::q4_packed_bytes(scheme, rows, cols));
    const int64_t tiles = (rows + quant::kQ4TileRows - 1) / quant::kQ4TileRows;
    pool_.split(tiles, 1, [&](int64_t tile_begin, int64_t tile_end, int) {
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = tile_begin * quant::kQ4TileRows; r < std::min(rows, tile_end * quant::kQ4TileRows); ++r) {
        src.row(r, row.data());
        int8_t* q = codes.data() + r * cols;
        if (group) {
          for (int64_t g = 0; g < groups; ++g) {
            // bf16 checkpoints: the stored amax is exact and the codes are torchao's.
            const uint16_t a = quant::q4_stored_amax(quant::max_abs(row.data() + g * 32, 32));
            amax[static_cast<size_t>(r * groups + g)] = a;
            quant::q4_quantize(row.data() + g * 32, 32, quant::q4_scale(bf16_to_float(a)), q + g * 32);
          }
        } else {
          if (!have_learned) row_scale[static_cast<size_t>(r)] = quant::q4_scale(quant::max_abs(row.data(), cols));
          quant::q4_quantize(row.data(), cols, row_scale[static_cast<size_t>(r)], q);
        }
      }
      quant::q4_pack_tiles(scheme, rows, cols, codes.data(), amax.data(), row_scale.data(), tile_begin, tile_end,
                           packed.data());
    });
    writer.add_tensor(p.name, group ? TensorType::kQ4G32 : TensorType::kQ4CW, p.shape, packed.data(), packed.size());
    ++report_.tensors_written;
  }

  // ggml Q4_1 blocks of each row (bit-exact to gguf.quants), then the tiles of q4_matrix.h.
  void write_q4_1(format::ModelFileWriter& writer, const model::TensorSpec& p, const SourceRows& src) {
    const int64_t rows = p.shape[0], cols = p.shape[1], groups = cols / quant::kQ4Group;
    AlignedBuffer<uint8_t> blocks(static_cast<size_t>(rows * groups * quant::kGgmlQ4_1BlockBytes));
    AlignedBuffer<uint8_t> packed(quant::q4_packed_bytes(quant::Q4Scheme::kAffine32, rows, cols));
    const int64_t tiles = (rows + quant::kQ4TileRows - 1) / quant::kQ4TileRows;
    pool_.split(tiles, 1, [&](int64_t tile_begin, int64_t tile_end, int) {
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = tile_begin * quant::kQ4TileRows; r < std::min(rows, tile_end * quant::kQ4TileRows); ++r) {
        src.row(r, row.data());
        for (int64_t g = 0; g < groups; ++g)
          if (!quant::ggml_q4_1_quantize_block(row.data() + g * 32,
                                               blocks.data() + (r * groups + g) * quant::kGgmlQ4_1BlockBytes))
            throw Error("tensor \"" + p.name + "\": row " + std::to_string(r) + ", columns " + std::to_string(32 * g) +
                        "–" + std::to_string(32 * g + 31) +
                        " span more than fp16 holds (q4_1 stores the group's minimum and step as fp16)");
      }
      quant::q4_pack_ggml_q4_1_tiles(rows, cols, blocks.data(), tile_begin, tile_end, packed.data());
    });
    writer.add_tensor(p.name, TensorType::kQ4_1, p.shape, packed.data(), packed.size());
    ++report_.tensors_written;
  }

  const io::GgufTensor* gguf_source(const std::string& name) const {
    auto it = gguf_tensors_->find(name);
    return it == gguf_tensors_->end() ? nullptr : it->second;
  }

  const ConvertOptions& o_;
  format::Scheme scheme_ = format::Scheme::kQ4G32;
  const std::map<std::string, const io::GgufTensor*>* gguf_tensors_ = nullptr;
  ThreadPool pool_;
  ConvertReport report_;
  std::set<std::string> quantizer_names_;
};

}  // namespace

ConvertReport convert_checkpoint(const ConvertOptions& options) { return Converter(options).run(); }

}  // namespace mobilellm::convert
