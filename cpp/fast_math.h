// exp and tanh for float written in plain arithmetic, so that loops calling them vectorise (glibc's
// expf/tanhf are scalar calls without -ffast-math, and ran softmax, sigmoid and tanh at a fraction of
// NumPy's speed). Both follow Cephes (S. Moshier): a range reduction and a short polynomial, within
// 2 ulp of the correctly rounded result over the whole float range; NaN and +-Inf behave like std::exp /
// std::tanh. The double versions are the standard library's: gradient checks want every digit and are not
// timed.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace nntrain {

inline float fast_exp(float x) {
  constexpr float kHi = 88.7228391f, kLo = -87.3365448f;  // beyond: +Inf, or 0 (below the normal range)
  const float xc = x > kHi ? kHi : (x < kLo ? kLo : x);   // NaN passes through to the end
  // x = n ln2 + r, |r| <= ln2/2, with ln2 split in two so that n*ln2 is exact
  // round to nearest by the 1.5 * 2^23 trick: adding it leaves no fraction bits (nearbyint would be a
  // library call on baseline x86-64 and stop the loop from vectorising)
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  // times 2^n through the exponent bits: n is in [-126, 128] after the clamp, or NaN for a NaN input,
  // which must not reach the integer conversion (undefined behaviour; the result is replaced below)
  const float n_finite = n == n ? n : 0.0f;
  const std::uint32_t bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(n_finite) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float y = n > 127.0f ? p * 1.70141183e38f * 2.0f : p * scale;  // 2^128 overflows the bits trick
  return x != x ? x : (x > kHi ? INFINITY : (x < kLo ? 0.0f : y));
}

inline float fast_tanh(float x) {
  const float a = std::fabs(x);
  // small |x|: an odd polynomial (no cancellation); otherwise 1 - 2 / (exp(2|x|) + 1), with the sign back
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float big = 1.0f - 2.0f / (fast_exp(2.0f * (a > 44.0f ? 44.0f : a)) + 1.0f);
  const float large = x < 0.0f ? -big : big;
  return x != x ? x : (a < 0.625f ? small : large);
}

inline double fast_exp(double x) { return std::exp(x); }
inline double fast_tanh(double x) { return std::tanh(x); }

}  // namespace nntrain
