#pragma once
// int4 weights in the layout the kernels read, written once by the converter
// and memory-mapped at load (never repacked):
//
//   Rows are taken 8 at a time (a tile; the last tile is padded with zero
//   rows). Each tile is stored as its K/32 groups in order, each group a block:
//     128 bytes of codes: 4 chunks of 32 bytes; in chunk c, byte 4·r + i holds
//       row r's code for column 8c + i in its low nibble and for column
//       8c + 4 + i in its high nibble (r < 8, i < 4). A nibble is q + 8 ∈ [0, 15]
//       (kAffine32: the code q ∈ [0, 15] itself).
//     16 bytes (kGroup32 only): the 8 rows' group amax as bf16 (docs/QUANTIZATION.md).
//     32 bytes (kAffine32 only): the 8 rows' fp16 d, then their fp16 m.
//   One 32-byte load of a chunk therefore holds 4 consecutive columns of all
//   8 rows in each nibble half: the operand shape of vpmaddubsw / vpdpbusd /
//   sdot against 4 broadcast activation bytes, with no shuffles.
//   After the blocks: rows_padded fp32 row constants (Q4Matrix::row_term),
//   then, for kChannel, rows_padded fp32 row scales.
#include <cstddef>
#include <cstdint>

namespace mobilellm::quant {

// kGroup32: symmetric, bf16 group amax (file type q4g32); kChannel: symmetric,
// fp32 row scale (q4cw); kAffine32: ggml's Q4_1, w = d·q + m with fp16 d and m
// per group of 32 (q4_1), kept bit for bit.
enum class Q4Scheme : uint8_t { kGroup32, kChannel, kAffine32 };

constexpr int64_t kQ4TileRows = 8;
constexpr int64_t kQ4CodeBytes = 128;        // per block: 8 rows × 32 codes
constexpr int64_t kQ4ScaleBytes = 16;        // per kGroup32 block: 8 bf16 amax
constexpr int64_t kQ4AffineParamBytes = 32;  // per kAffine32 block: 8 fp16 d, then 8 fp16 m

struct Q4Matrix {
  Q4Scheme scheme = Q4Scheme::kGroup32;
  int64_t rows = 0;
  int64_t cols = 0;  // a multiple of 32
  const uint8_t* blocks = nullptr;
  // Per row n, Σ_k ŵ[n][k]: the term that folds the activation's zero point
  // out of the product (kernels: y = s_x·(A − z_x·row_term)):
  //   kGroup32: Σ_g scale_g · Σ_{k∈g} q[n][k]     kChannel: scale_n · Σ_k q[n][k]
  //   kAffine32: Σ_g (d_g · Σ_{k∈g} q[n][k] + 32 · m_g)
  const float* row_term = nullptr;
  const float* row_scale = nullptr;  // kChannel: the row's scale

  int64_t tiles() const { return (rows + kQ4TileRows - 1) / kQ4TileRows; }
  int64_t groups() const { return cols / 32; }
  int64_t block_bytes() const {
    switch (scheme) {
      case Q4Scheme::kGroup32: return kQ4CodeBytes + kQ4ScaleBytes;
      case Q4Scheme::kAffine32: return kQ4CodeBytes + kQ4AffineParamBytes;
      case Q4Scheme::kChannel: break;
    }
    return kQ4CodeBytes;
  }
  const uint8_t* block(int64_t tile, int64_t group) const { return blocks + (tile * groups() + group) * block_bytes(); }
};

// Bytes of the whole packed tensor (blocks + row constants [+ row scales]).
size_t q4_packed_bytes(Q4Scheme scheme, int64_t rows, int64_t cols);
// A view over packed bytes (validated by the caller for size and alignment).
Q4Matrix q4_view(Q4Scheme scheme, int64_t rows, int64_t cols, const uint8_t* packed);

// The symmetric schemes (kGroup32, kChannel): packs codes [rows][cols] in
// [−8, 7] into `out` (q4_packed_bytes long).
// kGroup32: amax_bf16 [rows][cols/32] (bf16 bits) defines scale = max(amax / 7.5, FLT_MIN).
// kChannel: row_scale [rows].
void q4_pack(Q4Scheme scheme, int64_t rows, int64_t cols, const int8_t* codes, const uint16_t* amax_bf16,
             const float* row_scale, uint8_t* out);
// The same for tiles [tile_begin, tile_end) only (their blocks, row terms and
// scales), so that threads can pack disjoint tile ranges of one matrix.
void q4_pack_tiles(Q4Scheme scheme, int64_t rows, int64_t cols, const int8_t* codes, const uint16_t* amax_bf16,
                   const float* row_scale, int64_t tile_begin, int64_t tile_end, uint8_t* out);

// kAffine32 from ggml Q4_1 blocks (ggml_q4_1.h), [rows][cols / 32] of them,
// copied without re-rounding: d, m and every code keep their bits.
void q4_pack_ggml_q4_1(int64_t rows, int64_t cols, const uint8_t* blocks, uint8_t* out);
// The same for tiles [tile_begin, tile_end) only.
void q4_pack_ggml_q4_1_tiles(int64_t rows, int64_t cols, const uint8_t* blocks, int64_t tile_begin, int64_t tile_end,
                             uint8_t* out);

// Inverse of the layout, for tests and the embedding lookup.
// The stored nibble: q + 8 for the symmetric schemes, q for kAffine32.
uint8_t q4_nibble_at(const Q4Matrix& w, int64_t row, int64_t col);
// The symmetric schemes' code q ∈ [−8, 7].
int8_t q4_code_at(const Q4Matrix& w, int64_t row, int64_t col);
// The fp32 scale of (row, group): exact torchao scale (kGroup32), the row
// scale (kChannel) or d (kAffine32).
float q4_scale_at(const Q4Matrix& w, int64_t row, int64_t group);
// kAffine32: the fp16 bits of d and m of (row, group).
uint16_t q4_affine_d_bits(const Q4Matrix& w, int64_t row, int64_t group);
uint16_t q4_affine_m_bits(const Q4Matrix& w, int64_t row, int64_t group);
// One row as ggml Q4_1 blocks again (the inverse of q4_pack_ggml_q4_1).
void q4_row_to_ggml_q4_1(const Q4Matrix& w, int64_t row, uint8_t* blocks);
// out[k] = ŵ[row][k] for one row (the embedding lookup), exactly as the
// reference dequantizes: code · scale (torchao), d · q + m (ggml, no fused multiply-add).
void q4_dequantize_row(const Q4Matrix& w, int64_t row, float* out);

}  // namespace mobilellm::quant
