#pragma once
// The int4 GEMM on AMX tiles, written once against a Tiles policy: the real
// tile instructions (x86/quant_amx.cpp) or a scalar model of them
// (tests/quant/amx_emulated_tables.cpp), so the logic is tested on any x86 CPU.
//
// tdpbssd / tdpbsud: C[i][j] (int32) += Σ_{k<K/4} Σ_{b<4} A[i][4k+b] · B[k][4j+b],
// A signed bytes, B signed (the symmetric schemes) or unsigned (kAffine32).
//   A = 16 tokens × 32 activation codes of one group, loaded straight from
//       Int8Rows (row stride = cols);
//   B = one group of two 8-row weight tiles: row 2c holds chunk c's low
//       nibbles, row 2c+1 its high nibbles (q4_matrix.h: byte 4r+i of a chunk
//       is row r, columns 8c+i and 8c+4+i), the two tiles side by side: 8 rows
//       × 64 bytes, the nibbles only masked and shifted, never shuffled; the
//       symmetric schemes store the code q = nibble − 8 as a signed byte;
//   C = 16 tokens × 16 weight rows: the group's exact integer dot product,
//       D − term of the VNNI kernel (q4_kernels_x86.h) for the symmetric
//       schemes (Σ q_x·(nibble − 8)), D = Σ q_x·nibble for kAffine32.
// Each group's sum then takes the VNNI kernel's fp32 steps: acc += (D − term)·amax
// (kGroup32), integer sums (kChannel), acc += D·d + term·m/8 (kAffine32), on
// 16-lane vectors whose lane r is weight row r. The group scales differ per group, so a tile cannot sum
// several groups (kChannel's could, but it shares the one path).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "quant/int8_rows.h"
#include "quant/q4_matrix.h"
#include "quant/tables.h"
#include "runtime/aligned_buffer.h"

namespace mobilellm::quant::x86 {
namespace {

constexpr int kAmxTokens = 16;   // rows of A and C
constexpr int kAmxRows = 16;     // weight rows of B and C: two 8-row tiles
constexpr int kAmxBBytes = 512;  // one group of B: 8 rows × 64 bytes
// Groups in flight: their products go to C tiles tmm0..3 (A alternating in
// tmm4/5, B in tmm6/7), so the tile unit works on a batch while the vector
// unit scales the previous one out of memory.
constexpr int kAmxBatch = 4;

// The palette-1 tile configuration (Intel SDM, LDTILECFG): tmm0..3 = C
// (16 × 16 int32), tmm4..5 = A (16 × 32 bytes), tmm6..7 = B (8 × 64 bytes).
struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {64, 64, 64, 64, 32, 32, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 8, 8};
};
// A constant in the binary image: no store that a compiler could drop (GCC 12's
// _tile_loadconfig tells it only 8 bytes are read, so it drops the rest of a
// config filled on the stack).
alignas(64) inline constexpr AmxTileConfig kAmxTileConfig{};
static_assert(sizeof(AmxTileConfig) == 64);

// Two 8-row weight tiles' group g as one B tile, and their 16 group scales.
template <Q4Scheme kScheme>
inline void unpack_b(const Q4Matrix& w, int64_t tile, bool second, int64_t g, uint8_t* b, float* scale, float* offset) {
  alignas(64) static constexpr uint8_t kZeroBlock[kQ4CodeBytes + kQ4AffineParamBytes] = {};
  const uint8_t* first_block = w.block(tile, g);
  const uint8_t* second_block = second ? w.block(tile + 1, g) : kZeroBlock;
  const __m512i mask = _mm512_set1_epi8(0x0F);
  // The symmetric schemes' code q = nibble − 8, a signed byte.
  const auto code = [](__m512i nibbles) {
    if constexpr (kScheme == Q4Scheme::kAffine32)
      return nibbles;
    else
      return _mm512_sub_epi8(nibbles, _mm512_set1_epi8(8));
  };
  for (int c = 0; c < 4; ++c) {
    const __m512i raw = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(first_block + 32 * c))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(second_block + 32 * c)), 1);
    _mm512_store_si512(b + 128 * c, code(_mm512_and_si512(raw, mask)));
    _mm512_store_si512(b + 128 * c + 64, code(_mm512_and_si512(_mm512_srli_epi16(raw, 4), mask)));
  }
  if constexpr (kScheme == Q4Scheme::kGroup32) {
    const __m256i bits =
        _mm256_setr_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first_block + kQ4CodeBytes)),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(second_block + kQ4CodeBytes)));
    _mm512_store_ps(scale, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16)));
  } else if constexpr (kScheme == Q4Scheme::kAffine32) {
    const auto halves = [&](int at) {
      return _mm512_cvtph_ps(
          _mm256_setr_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first_block + kQ4CodeBytes + at)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(second_block + kQ4CodeBytes + at))));
    };
    _mm512_store_ps(scale, halves(0));
    _mm512_store_ps(offset, _mm512_mul_ps(halves(16), _mm512_set1_ps(0.125f)));  // exact: a power of two
  }
}

// Group g0 + j of the batch into C tile j.
template <class Tiles, Q4Scheme kScheme, int j>
inline void group_product(const int8_t* a, int64_t a_stride, const uint8_t* b, int64_t g0) {
  constexpr int a_tile = 4 + j % 2, b_tile = 6 + j % 2;
  Tiles::template zero<j>();
  Tiles::template load<a_tile>(a + 32 * (g0 + j), a_stride);
  Tiles::template load<b_tile>(b + kAmxBBytes * (g0 + j), 64);
  Tiles::template dot<j, a_tile, b_tile, kScheme != Q4Scheme::kAffine32>();
}

// acc[t] += the batch's n groups [g0, g0 + n) stored in c, as in the VNNI
// kernel. All 16 tokens, padding included: a fixed count keeps acc in registers.
template <Q4Scheme kScheme>
inline void scale_batch(const int32_t (*c)[kAmxTokens][kAmxRows], int n, int64_t g0, const int32_t* terms,
                        int64_t groups, const float* scale, const float* offset, __m512* acc, __m512i* iacc) {
  for (int j = 0; j < n; ++j) {
    const int64_t g = g0 + j;
    [[maybe_unused]] const __m512 s = _mm512_load_ps(scale + kAmxRows * g);
    for (int t = 0; t < kAmxTokens; ++t) {
      const __m512i d = _mm512_load_si512(c[j][t]);
      if constexpr (kScheme == Q4Scheme::kGroup32) {
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, acc[t]);
      } else if constexpr (kScheme == Q4Scheme::kChannel) {
        iacc[t] = _mm512_add_epi32(iacc[t], d);
      } else {
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, acc[t]);
        acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(static_cast<float>(terms[t * groups + g])),
                                 _mm512_load_ps(offset + kAmxRows * g), acc[t]);
      }
    }
  }
}

// y for tokens [i0, i0 + tokens) and the live rows of the 16 starting at tile
// `tile`, from the unpacked groups in b, scale, offset; a and terms hold 16
// tokens' codes and group terms (zero padded past m).
template <class Tiles, Q4Scheme kScheme>
inline void token_block(const Int8Rows& x, const int8_t* a, int64_t a_stride, const int32_t* terms, int64_t i0,
                        int tokens, const Q4Matrix& w, int64_t tile, int live_rows, const uint8_t* b,
                        const float* scale, const float* offset, float* y, int64_t ldy) {
  const int64_t groups = w.groups();
  alignas(64) int32_t c[2][kAmxBatch][kAmxTokens][kAmxRows];  // the batch being scaled, the one being stored
  __m512 acc[kAmxTokens];
  __m512i iacc[kAmxTokens];
  for (int t = 0; t < kAmxTokens; ++t) {
    acc[t] = _mm512_setzero_ps();
    iacc[t] = _mm512_setzero_si512();
  }
  int previous_n = 0;
  for (int64_t g0 = 0, batch = 0; g0 < groups; g0 += kAmxBatch, batch ^= 1) {
    const int n = static_cast<int>(std::min<int64_t>(kAmxBatch, groups - g0));
    group_product<Tiles, kScheme, 0>(a, a_stride, b, g0);
    if (n > 1) group_product<Tiles, kScheme, 1>(a, a_stride, b, g0);
    if (n > 2) group_product<Tiles, kScheme, 2>(a, a_stride, b, g0);
    if (n > 3) group_product<Tiles, kScheme, 3>(a, a_stride, b, g0);
    if (previous_n)
      scale_batch<kScheme>(c[batch ^ 1], previous_n, g0 - kAmxBatch, terms, groups, scale, offset, acc, iacc);
    Tiles::template store<0>(&c[batch][0][0][0]);
    if (n > 1) Tiles::template store<1>(&c[batch][1][0][0]);
    if (n > 2) Tiles::template store<2>(&c[batch][2][0][0]);
    if (n > 3) Tiles::template store<3>(&c[batch][3][0][0]);
    previous_n = n;
    if (g0 + kAmxBatch >= groups) scale_batch<kScheme>(c[batch], n, g0, terms, groups, scale, offset, acc, iacc);
  }
  // Rows past live_rows (another thread's tile, or past the matrix) are neither read nor written.
  const int64_t row0 = tile * kQ4TileRows;
  alignas(64) float row_term[kAmxRows] = {}, row_scale[kAmxRows] = {}, out[kAmxRows];
  std::copy_n(w.row_term + row0, live_rows, row_term);
  if constexpr (kScheme == Q4Scheme::kChannel) std::copy_n(w.row_scale + row0, live_rows, row_scale);
  const __m512 term_v = _mm512_load_ps(row_term);
  const __m512 row_factor = kScheme == Q4Scheme::kChannel   ? _mm512_load_ps(row_scale)
                            : kScheme == Q4Scheme::kGroup32 ? _mm512_set1_ps(kInvQ4Range)
                                                            : _mm512_set1_ps(1.0f);
  for (int t = 0; t < tokens; ++t) {
    const __m512 sum = kScheme == Q4Scheme::kChannel ? _mm512_cvtepi32_ps(iacc[t]) : acc[t];
    const __m512 zero_term = _mm512_mul_ps(_mm512_set1_ps(static_cast<float>(x.zero[i0 + t])), term_v);
    const __m512 result =
        _mm512_mul_ps(_mm512_set1_ps(x.scale[i0 + t]), _mm512_sub_ps(_mm512_mul_ps(sum, row_factor), zero_term));
    float* dst = y + (i0 + t) * ldy + row0;
    if (live_rows == kAmxRows) {
      _mm512_storeu_ps(dst, result);
    } else {
      _mm512_store_ps(out, result);
      std::copy_n(out, live_rows, dst);
    }
  }
}

template <class Tiles, Q4Scheme kScheme>
void amx_matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end, float* y,
                      int64_t ldy) {
  const int64_t groups = w.groups();
  // Grow-only per thread (pool threads persist, so they allocate once).
  thread_local AlignedBuffer<uint8_t> b;
  thread_local AlignedBuffer<float> scale, offset;
  // The last token block's codes and group terms, padded to 16 tokens with zeros.
  thread_local std::vector<int8_t> tail;
  thread_local std::vector<int32_t> tail_terms;
  if (b.size() < static_cast<size_t>(groups * kAmxBBytes)) {
    b.resize(static_cast<size_t>(groups * kAmxBBytes));
    scale.resize(static_cast<size_t>(groups * kAmxRows));
    offset.resize(static_cast<size_t>(groups * kAmxRows));
  }
  const int64_t full = m / kAmxTokens * kAmxTokens;
  if (full < m) {
    tail.assign(static_cast<size_t>(kAmxTokens * x.cols), 0);
    std::memcpy(tail.data(), x.q + full * x.cols, static_cast<size_t>((m - full) * x.cols));
    tail_terms.assign(static_cast<size_t>(kAmxTokens * groups), 0);
    std::copy_n(x.group_term + full * groups, (m - full) * groups, tail_terms.data());
  }
  Tiles::configure(kAmxTileConfig);
  for (int64_t tile = tile_begin; tile < tile_end; tile += 2) {
    const bool second = tile + 1 < tile_end;
    const int live_rows =
        static_cast<int>(std::min<int64_t>(second ? kAmxRows : kQ4TileRows, w.rows - tile * kQ4TileRows));
    for (int64_t g = 0; g < groups; ++g)
      unpack_b<kScheme>(w, tile, second, g, b.data() + kAmxBBytes * g, scale.data() + kAmxRows * g,
                        offset.data() + kAmxRows * g);
    for (int64_t i = 0; i < m; i += kAmxTokens) {
      const int tokens = static_cast<int>(std::min<int64_t>(kAmxTokens, m - i));
      const bool padded = i >= full;
      token_block<Tiles, kScheme>(x, padded ? tail.data() : x.q + i * x.cols, x.cols,
                                  padded ? tail_terms.data() : x.group_term + i * groups, i, tokens, w, tile, live_rows,
                                  b.data(), scale.data(), offset.data(), y, ldy);
    }
  }
  Tiles::release();
}

template <class Tiles>
void amx_q4_matmul_tiles(const Int8Rows& x, int64_t m, const Q4Matrix& w, int64_t tile_begin, int64_t tile_end,
                         float* y, int64_t ldy) {
  switch (w.scheme) {
    case Q4Scheme::kGroup32: return amx_matmul_tiles<Tiles, Q4Scheme::kGroup32>(x, m, w, tile_begin, tile_end, y, ldy);
    case Q4Scheme::kChannel: return amx_matmul_tiles<Tiles, Q4Scheme::kChannel>(x, m, w, tile_begin, tile_end, y, ldy);
    case Q4Scheme::kAffine32:
      return amx_matmul_tiles<Tiles, Q4Scheme::kAffine32>(x, m, w, tile_begin, tile_end, y, ldy);
  }
}

}  // namespace
}  // namespace mobilellm::quant::x86
