#pragma once
// ggml's Q4_1 block (ggml-common.h, block_q4_1), the block format of GGUF
// Q4_1 tensors and of the q4_1 scheme's converter: 32 weights as
//   fp16 d, fp16 m, 16 bytes of codes (byte j: element j in the low nibble,
//   element j + 16 in the high nibble), and w = d·q + m, q ∈ [0, 15].
#include <cstdint>

namespace mobilellm::quant {

constexpr int64_t kGgmlQ4_1BlockBytes = 20;

// Quantizes 32 values into one block, bit-identical to ggml's
// quantize_row_q4_1_ref and the gguf package's Q4_1.quantize_blocks:
//   d = (max − min) / 15,  id = d == 0 ? 0 : 1 / d  (fp32)
//   q = min(15, trunc((x − min) · id + 0.5)),  d and min stored as fp16.
// Returns false when d or min do not fit in fp16 (the block then holds an infinity).
[[nodiscard]] bool ggml_q4_1_quantize_block(const float* x, uint8_t* block);

}  // namespace mobilellm::quant
