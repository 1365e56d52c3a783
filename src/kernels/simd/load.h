#pragma once
// Loads shared by the simd/ kernels: stored weight element types, and the
// zero-padded partial loads and stores that finish a row shorter than a vector.
#include <cstdint>
#include <cstring>

#include "runtime/dtype.h"

namespace mobilellm::kernels::simd {
// Anonymous: each ISA's translation unit keeps its own copy (see x86/vec_avx2.h).
namespace {

// One tag per stored element type; each turns D::kLanes stored elements into floats.
struct F32Weights {
  using T = float;
  template <class D>
  static typename D::V load(const T* p) {
    return D::load(p);
  }
  static float to_float(T v) { return v; }
};
struct Bf16Weights {
  using T = uint16_t;
  template <class D>
  static typename D::V load(const T* p) {
    return D::load_bf16(p);
  }
  static float to_float(T v) { return bf16_to_float(v); }
};
struct F16Weights {
  using T = uint16_t;
  template <class D>
  static typename D::V load(const T* p) {
    return D::load_f16(p);
  }
  static float to_float(T v) { return f16_to_float(v); }
};

// The first n < D::kLanes elements; the other lanes are zero (0 bits is 0.0 in every type).
template <class D, class W>
typename D::V load_partial(const typename W::T* p, int64_t n) {
  typename W::T buf[D::kLanes] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(typename W::T));
  return W::template load<D>(buf);
}

template <class D>
typename D::V load_partial(const float* p, int64_t n) {
  return load_partial<D, F32Weights>(p, n);
}

template <class D>
void store_partial(float* p, typename D::V v, int64_t n) {
  float buf[D::kLanes];
  D::store(buf, v);
  std::memcpy(p, buf, static_cast<size_t>(n) * sizeof(float));
}

}  // namespace
}  // namespace mobilellm::kernels::simd
