#include "quant/q4_matrix.h"

#include <cstring>

#include "quant/ggml_q4_1.h"
#include "quant/int4_quant.h"
#include "runtime/dtype.h"

namespace mobilellm::quant {
namespace {

int64_t padded_rows(int64_t rows) { return (rows + kQ4TileRows - 1) / kQ4TileRows * kQ4TileRows; }

// Where (row lane r, column k of the group) lives in a block: byte and nibble.
size_t code_byte(int64_t r, int64_t k) { return static_cast<size_t>(32 * (k / 8) + 4 * r + k % 4); }
bool code_high(int64_t k) { return (k % 8) >= 4; }

// A ggml Q4_1 block's code for element k (low nibbles hold 0–15, high 16–31).
uint8_t ggml_code(const uint8_t* block, int64_t k) {
  const uint8_t byte = block[4 + k % 16];
  return k < 16 ? byte & 0x0F : byte >> 4;
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

}  // namespace

size_t q4_packed_bytes(Q4Scheme scheme, int64_t rows, int64_t cols) {
  const Q4Matrix shape{scheme, rows, cols};
  const int64_t per_row = scheme == Q4Scheme::kChannel ? 2 : 1;
  return static_cast<size_t>(shape.tiles() * shape.groups() * shape.block_bytes() +
                             per_row * padded_rows(rows) * static_cast<int64_t>(sizeof(float)));
}

Q4Matrix q4_view(Q4Scheme scheme, int64_t rows, int64_t cols, const uint8_t* packed) {
  Q4Matrix w{scheme, rows, cols, packed};
  const uint8_t* after = packed + w.tiles() * w.groups() * w.block_bytes();
  w.row_term = reinterpret_cast<const float*>(after);
  if (scheme == Q4Scheme::kChannel) w.row_scale = w.row_term + padded_rows(rows);
  return w;
}

void q4_pack(Q4Scheme scheme, int64_t rows, int64_t cols, const int8_t* codes, const uint16_t* amax_bf16,
             const float* row_scale, uint8_t* out) {
  q4_pack_tiles(scheme, rows, cols, codes, amax_bf16, row_scale, 0, Q4Matrix{scheme, rows, cols}.tiles(), out);
}

void q4_pack_tiles(Q4Scheme scheme, int64_t rows, int64_t cols, const int8_t* codes, const uint16_t* amax_bf16,
                   const float* row_scale, int64_t tile_begin, int64_t tile_end, uint8_t* out) {
  const Q4Matrix w = q4_view(scheme, rows, cols, out);
  const int64_t groups = w.groups();
  uint8_t* first_block = out + tile_begin * groups * w.block_bytes();
  std::memset(first_block, 0, static_cast<size_t>((tile_end - tile_begin) * groups * w.block_bytes()));
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* block = out + (tile * groups + g) * w.block_bytes();
      for (int64_t r = 0; r < kQ4TileRows; ++r) {
        const int64_t row = tile * kQ4TileRows + r;
        for (int64_t k = 0; k < 32; ++k) {
          // Padding rows hold code 0 (nibble 8) and scale 0: they add nothing.
          const int q = row < rows ? codes[row * cols + g * 32 + k] : 0;
          const uint8_t nibble = static_cast<uint8_t>(q + 8);
          block[code_byte(r, k)] |= code_high(k) ? static_cast<uint8_t>(nibble << 4) : nibble;
        }
        if (scheme == Q4Scheme::kGroup32) {
          const uint16_t amax = row < rows ? amax_bf16[row * groups + g] : 0;
          std::memcpy(block + kQ4CodeBytes + 2 * r, &amax, 2);
        }
      }
    }
  }
  float* row_term = const_cast<float*>(w.row_term);
  float* scales = const_cast<float*>(w.row_scale);
  for (int64_t row = tile_begin * kQ4TileRows; row < tile_end * kQ4TileRows; ++row) {
    if (row >= rows) {
      row_term[row] = 0.0f;
      if (scales) scales[row] = 0.0f;
      continue;
    }
    // In double, rounded once: the row term cancels against large sums.
    double term = 0.0;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t sum = 0;
      for (int64_t k = 0; k < 32; ++k) sum += codes[row * cols + g * 32 + k];
      const double scale = scheme == Q4Scheme::kGroup32 ? q4_scale(bf16_to_float(amax_bf16[row * groups + g])) : 1.0;
      term += scale * static_cast<double>(sum);
    }
    if (scales) {
      term *= row_scale[row];
      scales[row] = row_scale[row];
    }
    row_term[row] = static_cast<float>(term);
  }
}

void q4_pack_ggml_q4_1(int64_t rows, int64_t cols, const uint8_t* blocks, uint8_t* out) {
  q4_pack_ggml_q4_1_tiles(rows, cols, blocks, 0, Q4Matrix{Q4Scheme::kAffine32, rows, cols}.tiles(), out);
}

void q4_pack_ggml_q4_1_tiles(int64_t rows, int64_t cols, const uint8_t* blocks, int64_t tile_begin, int64_t tile_end,
                             uint8_t* out) {
  const Q4Matrix w = q4_view(Q4Scheme::kAffine32, rows, cols, out);
  const int64_t groups = w.groups();
  uint8_t* first_block = out + tile_begin * groups * w.block_bytes();
  // Padding rows: code 0, d 0, m 0 (fp16 +0): they add nothing.
  std::memset(first_block, 0, static_cast<size_t>((tile_end - tile_begin) * groups * w.block_bytes()));
  float* row_term = const_cast<float*>(w.row_term);
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    for (int64_t r = 0; r < kQ4TileRows; ++r) {
      const int64_t row = tile * kQ4TileRows + r;
      if (row >= rows) {
        row_term[row] = 0.0f;
        continue;
      }
      // In double, rounded once: the row term cancels against large sums.
      double term = 0.0;
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* src = blocks + (row * groups + g) * kGgmlQ4_1BlockBytes;
        uint8_t* block = out + (tile * groups + g) * w.block_bytes();
        int64_t sum = 0;
        for (int64_t k = 0; k < 32; ++k) {
          const uint8_t q = ggml_code(src, k);
          block[code_byte(r, k)] |= code_high(k) ? static_cast<uint8_t>(q << 4) : q;
          sum += q;
        }
        std::memcpy(block + kQ4CodeBytes + 2 * r, src, 2);           // d
        std::memcpy(block + kQ4CodeBytes + 16 + 2 * r, src + 2, 2);  // m
        term += static_cast<double>(f16_to_float(load_u16(src))) * static_cast<double>(sum) +
                32.0 * static_cast<double>(f16_to_float(load_u16(src + 2)));
      }
      row_term[row] = static_cast<float>(term);
    }
  }
}

uint8_t q4_nibble_at(const Q4Matrix& w, int64_t row, int64_t col) {
  const uint8_t byte = w.block(row / kQ4TileRows, col / 32)[code_byte(row % kQ4TileRows, col % 32)];
  return code_high(col % 32) ? byte >> 4 : byte & 0x0F;
}

int8_t q4_code_at(const Q4Matrix& w, int64_t row, int64_t col) {
  return static_cast<int8_t>(q4_nibble_at(w, row, col) - 8);
}

uint16_t q4_affine_d_bits(const Q4Matrix& w, int64_t row, int64_t group) {
  return load_u16(w.block(row / kQ4TileRows, group) + kQ4CodeBytes + 2 * (row % kQ4TileRows));
}

uint16_t q4_affine_m_bits(const Q4Matrix& w, int64_t row, int64_t group) {
  return load_u16(w.block(row / kQ4TileRows, group) + kQ4CodeBytes + 16 + 2 * (row % kQ4TileRows));
}

void q4_row_to_ggml_q4_1(const Q4Matrix& w, int64_t row, uint8_t* blocks) {
  for (int64_t g = 0; g < w.groups(); ++g) {
    uint8_t* b = blocks + g * kGgmlQ4_1BlockBytes;
    const uint16_t d = q4_affine_d_bits(w, row, g), m = q4_affine_m_bits(w, row, g);
    std::memcpy(b, &d, 2);
    std::memcpy(b + 2, &m, 2);
    for (int64_t j = 0; j < 16; ++j)
      b[4 + j] = static_cast<uint8_t>(q4_nibble_at(w, row, 32 * g + j) | q4_nibble_at(w, row, 32 * g + 16 + j) << 4);
  }
}

float q4_scale_at(const Q4Matrix& w, int64_t row, int64_t group) {
  if (w.scheme == Q4Scheme::kChannel) return w.row_scale[row];
  if (w.scheme == Q4Scheme::kAffine32) return f16_to_float(q4_affine_d_bits(w, row, group));
  uint16_t amax;
  std::memcpy(&amax, w.block(row / kQ4TileRows, group) + kQ4CodeBytes + 2 * (row % kQ4TileRows), 2);
  return q4_scale(bf16_to_float(amax));
}

void q4_dequantize_row(const Q4Matrix& w, int64_t row, float* out) {
  if (w.scheme == Q4Scheme::kAffine32) {
    for (int64_t g = 0; g < w.groups(); ++g) {
      const float d = q4_scale_at(w, row, g), m = f16_to_float(q4_affine_m_bits(w, row, g));
      for (int64_t k = 0; k < 32; ++k) out[g * 32 + k] = d * static_cast<float>(q4_nibble_at(w, row, g * 32 + k)) + m;
    }
    return;
  }
  for (int64_t g = 0; g < w.groups(); ++g) {
    const float scale = q4_scale_at(w, row, g);
    for (int64_t k = 0; k < 32; ++k) out[g * 32 + k] = static_cast<float>(q4_code_at(w, row, g * 32 + k)) * scale;
  }
}

}  // namespace mobilellm::quant
