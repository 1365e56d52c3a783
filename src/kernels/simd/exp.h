#pragma once
// Vectorised e^x for softmax and SiLU: Cody-Waite range reduction to
// r ∈ [-ln2/2, ln2/2] and the Cephes expf polynomial, ≈1–2 ulp (relative
// error < 3e-7) over the whole float range, with gradual underflow.
namespace mobilellm::kernels::simd {
namespace {

template <class D>
typename D::V exp(typename D::V x) {
  using V = typename D::V;
  // Below ln(smallest denormal) e^x is 0; above ln(FLT_MAX) it is +inf.
  // x goes second so that x86 min/max pass a NaN through.
  const V lo = D::set1(-104.0f);
  const V hi = D::set1(88.7228391f);
  V xc = D::min(hi, D::max(lo, x));
  V n = D::round(D::mul(xc, D::set1(1.44269504088896341f)));
  // ln2 split in two so that n·ln2_hi is exact.
  V r = D::fma(n, D::set1(-0.693359375f), xc);
  r = D::fma(n, D::set1(2.12194440e-4f), r);
  V p = D::set1(1.9875691500e-4f);
  p = D::fma(p, r, D::set1(1.3981999507e-3f));
  p = D::fma(p, r, D::set1(8.3334519073e-3f));
  p = D::fma(p, r, D::set1(4.1665795894e-2f));
  p = D::fma(p, r, D::set1(1.6666665459e-1f));
  p = D::fma(p, r, D::set1(5.0000001201e-1f));
  p = D::fma(p, D::mul(r, r), D::add(r, D::set1(1.0f)));
  // 2^n as two factors: n spans [-150, 128], each half stays a normal float,
  // and the last multiply rounds into the denormals when the result is tiny.
  V half = D::round(D::mul(n, D::set1(0.5f)));
  V result = D::mul(D::mul(p, D::pow2i(half)), D::pow2i(D::sub(n, half)));
  return D::select_gt(x, hi, D::set1(__builtin_inff()), result);
}

}  // namespace
}  // namespace mobilellm::kernels::simd
