// exp, expm1, tanh and erf for float written in plain arithmetic, so that loops calling them vectorise
// (glibc's expf/tanhf/erff are scalar calls without -ffast-math, and ran softmax, sigmoid and tanh at a
// fraction of NumPy's speed). The elementwise kernels are compiled once per instruction set
// (kernels/elementwise_*.cpp), so the same source becomes 4-, 8- or 16-lane code with or without FMA.
// exp follows Cephes (S. Moshier): a range reduction and a short polynomial, within 2 ulp of the correctly
// rounded result over the whole float range; expm1 shares its reduction; tanh and erf are the rational
// approximations Eigen and XLA use (relative error below 4e-7, absolute below 5e-7). NaN and +-Inf behave
// like std::. Written without tests on special values where arithmetic handles them, since each test
// is a compare and a blend per vector.
// The double versions are the standard library's: gradient checks want every digit and are not timed.
//
// Internal linkage (anonymous namespace): each kernel file compiled with its own instruction-set flags
// gets its own copy, so the linker can never hand an AVX-512 copy to code running on an older CPU. For
// the same reason nothing here calls an inline function of the standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace nntrain {
namespace {

// Clamps written `x < hi ? x : hi` compile to one min (one max) instruction; they turn NaN into the bound,
// so the functions restore NaN at the end with a single select.
inline float clamp_to(float x, float lo, float hi) {
  const float below = x < hi ? x : hi;
  return below > lo ? below : lo;
}

// x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so that n*ln2 is exact), and 2^n as the product of
// two floats 2^(n/2) and 2^(n - n/2): x is clamped to [-104, 89] first (n in [-150, 129]), so each half
// is a normal float and the product overflows to +Inf or underflows to 0 by itself, with no tests.
struct ExpReduction {
  float r, scale_hi, scale_lo;  // exp(x) = exp(r) * scale_hi * scale_lo
};
inline ExpReduction exp_reduce(float x) {
  const float xc = clamp_to(x, -104.0f, 89.0f);
  // round to nearest by the 1.5 * 2^23 trick: adding it leaves no fraction bits (nearbyint would be a
  // library call on baseline x86-64 and stop the loop from vectorising)
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
  const std::int32_t k = static_cast<std::int32_t>(n), k_hi = k >> 1, k_lo = k - k_hi;
  const std::uint32_t bits_hi = static_cast<std::uint32_t>(k_hi + 127) << 23;
  const std::uint32_t bits_lo = static_cast<std::uint32_t>(k_lo + 127) << 23;
  ExpReduction e;
  e.r = r;
  std::memcpy(&e.scale_hi, &bits_hi, sizeof(float));
  std::memcpy(&e.scale_lo, &bits_lo, sizeof(float));
  return e;
}

inline float fast_exp(float x) {
  const ExpReduction e = exp_reduce(x);
  const float r = e.r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const float y = p * e.scale_hi * e.scale_lo;
  return x != x ? x : y;
}

// exp(x) - 1 without the cancellation near 0: 2^n expm1(r) + (2^n - 1), both terms exact but for the last
// rounding, with expm1(r) a Taylor polynomial (|r| <= ln2/2: the first omitted term is below 2e-8 of it).
inline float fast_expm1(float x) {
  const ExpReduction e = exp_reduce(x);
  const float r = e.r;
  float p = 1.9841270e-4f;  // 1/7!
  p = p * r + 1.3888889e-3f;
  p = p * r + 8.3333333e-3f;
  p = p * r + 4.1666667e-2f;
  p = p * r + 1.6666667e-1f;
  p = p * r + 0.5f;
  p = p * (r * r) + r;
  const float scale = e.scale_hi * e.scale_lo;  // +Inf past exp's range, 0 below it
  const float y = scale * p + (scale - 1.0f);
  return x != x ? x : y;
}

// tanh(x) = x P(x^2) / Q(x^2) on [-7.9, 7.9], +-1 beyond (tanh(7.9) rounds to 1), the rational form
// Eigen and XLA use: relative error below 4e-7, and no exp.
inline float fast_tanh(float x) {
  const float c = clamp_to(x, -7.90531110763549805f, 7.90531110763549805f);
  const float z = c * c;
  float p = -2.76076847742355e-16f;
  p = p * z + 2.00018790482477e-13f;
  p = p * z - 8.60467152213735e-11f;
  p = p * z + 5.12229709037114e-08f;
  p = p * z + 1.48572235717979e-05f;
  p = p * z + 6.37261928875436e-04f;
  p = p * z + 4.89352455891786e-03f;
  float q = 1.19825839466702e-06f;
  q = q * z + 1.18534705686654e-04f;
  q = q * z + 2.26843463243900e-03f;
  q = q * z + 4.89352518554385e-03f;
  const float a = x < 0.0f ? -x : x;
  return !(a >= 0.0004f) ? x : c * p / q;  // tiny |x|: tanh x = x in float; NaN passes here too
}

// erf(x) = x P(x^2) / Q(x^2) on [-4, 4], +-1 beyond (erf(4) rounds to 1 in float).
inline float fast_erf(float x) {
  const float c = clamp_to(x, -4.0f, 4.0f);
  const float z = c * c;
  float p = -2.72614225801306e-10f;
  p = p * z + 2.77068142495902e-08f;
  p = p * z - 2.10102402082508e-06f;
  p = p * z - 5.69250639462346e-05f;
  p = p * z - 7.34990630326855e-04f;
  p = p * z - 2.95459980854025e-03f;
  p = p * z - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * z - 2.13374055278905e-04f;
  q = q * z - 1.68282697438203e-03f;
  q = q * z - 7.37332916720468e-03f;
  q = q * z - 1.42647390514189e-02f;
  return x != x ? x : c * p / q;
}

inline double fast_exp(double x) { return std::exp(x); }
inline double fast_expm1(double x) { return std::expm1(x); }
inline double fast_tanh(double x) { return std::tanh(x); }
inline double fast_erf(double x) { return std::erf(x); }

}  // namespace
}  // namespace nntrain
