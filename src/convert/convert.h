#pragma once
// `mobilellm convert`: a checkpoint (Hugging Face directory or GGUF file,
// model/checkpoint.h) → one model file
// (docs/FORMAT.md) in a scheme:
//   q4g32  spec §4.1 int4 groupwise for every linear layer and the embedding
//          (tied output) matrix: the CPU scheme;
//   q4cw   spec §4.2 int4 channelwise, with the checkpoint's learned
//          `<linear>.weight_fake_quantizer.scale` where present;
//   q4_1   ggml's asymmetric Q4_1 (fp16 d and m per group of 32), quantized
//          bit-exactly as gguf.quants does; a matrix whose column count 32
//          does not divide is kept in f32 (reported);
//   bf16 / f32  unquantized.
// Norm weights are always stored as f32. Under q4g32 / q4cw a matrix whose
// columns groups of 32 do not divide is kept in bf16 and reported. Tensors
// the model does not use are reported (and left out), never silently dropped.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "format/scheme.h"

namespace mobilellm::convert {

struct ConvertOptions {
  std::filesystem::path input;   // checkpoint directory or GGUF file
  std::filesystem::path output;  // model file, written atomically (io/atomic_output.h)
  bool overwrite = false;        // replace an existing output (never one of the checkpoint's files)
  std::string scheme = format::scheme_name(format::Scheme::kQ4G32);  // a format::Scheme name
  int threads = 1;
  // Called after each tensor: bytes of the checkpoint processed so far, of `total`.
  std::function<void(uint64_t done, uint64_t total, const std::string& tensor)> progress;
};

struct ConvertReport {
  std::vector<std::string> unknown_tensors;  // in the checkpoint, not used by the model
  int64_t learned_scales_used = 0;           // q4cw: weight_fake_quantizer.scale tensors applied
  int64_t learned_scales_ignored = 0;        // present but not used by the scheme
  std::vector<std::string> kept_float;       // q4_1: matrices kept in f32 (columns not a multiple of 32)
  std::vector<std::string> kept_bf16;        // q4g32, q4cw: "name [rows, cols]" of matrices whose columns
                                             // are not a multiple of 32, kept in bf16
  // From a GGUF: block-format tensors copied without re-rounding (Q4_1 into q4_1), and the others,
  // "name (TYPE)", whose values were re-quantized or rounded into the scheme's types.
  int64_t gguf_blocks_kept = 0;
  std::vector<std::string> gguf_requantized;
  int64_t tensors_written = 0;
  uint64_t file_bytes = 0;
};

// Throws Error naming the tensor for a missing or misshapen tensor, a
// non-finite weight or a non-positive learned scale.
ConvertReport convert_checkpoint(const ConvertOptions& options);

}  // namespace mobilellm::convert
