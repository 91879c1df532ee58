// Winograd F(2x2, 3x3) kernels, AVX2 build (compiled with -mavx2 -mfma): the 16-image lanes are two ymm.
// 16 ymm registers: a product tile of 6 rows x 2 ymm (12 accumulators); V^T by 8 x 8 register transposes.
#include <immintrin.h>

#include "kernels/winograd_f2.h"

namespace nntrain {
namespace {

// r[i][j] := r[j][i] for an 8 x 8 block of floats held in 8 registers.
inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// transpose (winograd_kernels.h) by 8 x 8 register blocks; rows past `rows` read as zero.
void transpose_avx2(float* dst, index_t ldd, const float* src, index_t lds, index_t rows, index_t cols) {
  for (index_t i0 = 0; i0 < ldd; i0 += 8)
    for (index_t k0 = 0; k0 < cols; k0 += 8) {
      __m256 r[8];
      for (index_t l = 0; l < 8; ++l)
        r[l] = i0 + l < rows ? _mm256_loadu_ps(src + (i0 + l) * lds + k0) : _mm256_setzero_ps();
      transpose8(r);
      for (index_t j = 0; j < 8; ++j) _mm256_storeu_ps(dst + (k0 + j) * ldd + i0, r[j]);
    }
}

}  // namespace

WinogradKernels<float> swinograd_kernels_avx2() {
  WinogradKernels<float> k = winograd_kernels<float, 8, 6, 2>();
  k.transpose = transpose_avx2;
  return k;
}
WinogradKernels<double> dwinograd_kernels_avx2() { return winograd_kernels<double, 4, 6, 2>(); }

}  // namespace nntrain
