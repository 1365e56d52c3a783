// The ggml tensor types: block geometry and the dequantizers. Each
// dequantizer follows ggml-quants.c's dequantize_row_* operation for operation
// (same products, same order, float arithmetic), so its results are bit-exact
// to ggml's reference code.
#include <cstring>
#include <iterator>
#include <optional>
#include <string>

#include "io/gguf.h"
#include "runtime/dtype.h"
#include "runtime/error.h"

namespace mobilellm::io {

namespace {

constexpr int64_t kQK = 32;     // elements of a Q4_0 / Q4_1 / Q8_0 block
constexpr int64_t kQK_K = 256;  // elements of a K-quant super-block

float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_float(h);
}

// Block layouts (ggml-common.h), as byte offsets inside one block.
// block_q4_0 { half d; uint8 qs[16]; }
void dequantize_q4_0(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 18, y += kQK) {
    const float d = half(x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = (qs[j] & 0x0F) - 8;
      const int x1 = (qs[j] >> 4) - 8;
      y[j] = x0 * d;
      y[j + kQK / 2] = x1 * d;
    }
  }
}

// block_q4_1 { half d; half m; uint8 qs[16]; }
void dequantize_q4_1(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 20, y += kQK) {
    const float d = half(x);
    const float m = half(x + 2);
    const uint8_t* qs = x + 4;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = qs[j] & 0x0F;
      const int x1 = qs[j] >> 4;
      y[j] = x0 * d + m;
      y[j + kQK / 2] = x1 * d + m;
    }
  }
}

// block_q8_0 { half d; int8 qs[32]; }
void dequantize_q8_0(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 34, y += kQK) {
    const float d = half(x);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<int8_t>(x[2 + j]) * d;
  }
}

// The 6-bit scale and min of sub-block j, packed in 12 bytes (get_scale_min_k4).
void scale_min_k4(int j, const uint8_t* q, uint8_t& d, uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; }
void dequantize_q4_k(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 144) {
    const float d = half(x);
    const float min = half(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* q = x + 16;
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < kQK_K; j += 64) {
      scale_min_k4(is + 0, scales, sc, m);
      const float d1 = d * sc;
      const float m1 = min * m;
      scale_min_k4(is + 1, scales, sc, m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

// block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }
void dequantize_q5_k(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 176) {
    const float d = half(x);
    const float min = half(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    int is = 0;
    uint8_t sc, m;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQK_K; j += 64) {
      scale_min_k4(is + 0, scales, sc, m);
      const float d1 = d * sc;
      const float m1 = min * m;
      scale_min_k4(is + 1, scales, sc, m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

// block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }
void dequantize_q6_k(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 210) {
    const float d = half(x + 208);
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    for (int n = 0; n < kQK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int8_t q1 = static_cast<int8_t>(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        const int8_t q2 = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        const int8_t q3 = static_cast<int8_t>(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        const int8_t q4 = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

}  // namespace

const char* ggml_type_name(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return "F32";
    case GgmlType::kF16: return "F16";
    case GgmlType::kQ4_0: return "Q4_0";
    case GgmlType::kQ4_1: return "Q4_1";
    case GgmlType::kQ8_0: return "Q8_0";
    case GgmlType::kQ4_K: return "Q4_K";
    case GgmlType::kQ5_K: return "Q5_K";
    case GgmlType::kQ6_K: return "Q6_K";
    case GgmlType::kBF16: return "BF16";
  }
  return "?";
}

const char* ggml_type_id_name(uint32_t id) {
  // ggml.h's enum ggml_type; the gaps are ids whose support ggml removed.
  static const char* const kNames[] = {"F32",     "F16",    "Q4_0",    "Q4_1",  nullptr,  nullptr, "Q5_0",  "Q5_1",
                                       "Q8_0",    "Q8_1",   "Q2_K",    "Q3_K",  "Q4_K",   "Q5_K",  "Q6_K",  "Q8_K",
                                       "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
                                       "I8",      "I16",    "I32",     "I64",   "F64",    "IQ1_M", "BF16",  nullptr,
                                       nullptr,   nullptr,  "TQ1_0",   "TQ2_0", nullptr,  nullptr, nullptr, "MXFP4"};
  return id < std::size(kNames) ? kNames[id] : nullptr;
}

std::optional<GgmlType> supported_ggml_type(uint32_t id) {
  switch (static_cast<GgmlType>(id)) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
    case GgmlType::kBF16: return static_cast<GgmlType>(id);
  }
  return std::nullopt;
}

int64_t ggml_block_elements(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16: return 1;
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ8_0: return kQK;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: return kQK_K;
  }
  return 0;
}

int64_t ggml_block_bytes(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return 4;
    case GgmlType::kF16:
    case GgmlType::kBF16: return 2;
    case GgmlType::kQ4_0: return 18;
    case GgmlType::kQ4_1: return 20;
    case GgmlType::kQ8_0: return 34;
    case GgmlType::kQ4_K: return 144;
    case GgmlType::kQ5_K: return 176;
    case GgmlType::kQ6_K: return 210;
  }
  return 0;
}

void dequantize_row(GgmlType type, const void* src, int64_t n, float* dst) {
  const int64_t block = ggml_block_elements(type);
  if (block == 0) throw Error("dequantize_row: unsupported ggml type " + std::to_string(static_cast<uint32_t>(type)));
  if (n < 0 || n % block != 0) {
    throw Error(std::string("dequantize_row: ") + std::to_string(n) + " elements is not a multiple of the " +
                ggml_type_name(type) + " block size " + std::to_string(block));
  }
  const auto* x = static_cast<const uint8_t*>(src);
  const int64_t blocks = n / block;
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, x, static_cast<size_t>(n) * 4); return;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = half(x + 2 * i);
      return;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, x + 2 * i, 2);
        dst[i] = bf16_to_float(v);
      }
      return;
    case GgmlType::kQ4_0: return dequantize_q4_0(x, blocks, dst);
    case GgmlType::kQ4_1: return dequantize_q4_1(x, blocks, dst);
    case GgmlType::kQ8_0: return dequantize_q8_0(x, blocks, dst);
    case GgmlType::kQ4_K: return dequantize_q4_k(x, blocks, dst);
    case GgmlType::kQ5_K: return dequantize_q5_k(x, blocks, dst);
    case GgmlType::kQ6_K: return dequantize_q6_k(x, blocks, dst);
  }
}

int64_t GgufTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // the reader checked that the product fits
  return n;
}

std::vector<float> dequantize(const GgufTensor& tensor) {
  std::vector<float> out(static_cast<size_t>(tensor.elements()));
  dequantize_row(tensor.type, tensor.data, tensor.elements(), out.data());
  return out;
}

}  // namespace mobilellm::io
