// Winograd F(2x2, 3x3) kernels, AVX2 build (compiled with -mavx2 -mfma): the 16-image lanes are two ymm.
// 16 ymm registers: a product tile of 6 rows x 2 ymm (12 accumulators); V^T and the moves between NCHW
// rows and lanes by 8 x 8 register transposes.
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
#pragma GCC unroll 8
      for (int l = 0; l < 8; ++l)
        r[l] = i0 + l < rows ? _mm256_loadu_ps(src + (i0 + l) * lds + k0) : _mm256_setzero_ps();
      transpose8(r);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + (k0 + j) * ldd + i0, r[j]);
    }
}

// The first n of 8 lanes on: a maskload/maskstore mask.
inline __m256i first_lanes(index_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The blocks of 8 values of each image's run of height * width values, twice each: body(f0, n, mask, half, at)
// for images 8 half .. 8 half + 7, with n values from f0 (mask: the first n lanes) whose lanes position
// starts at `at`, which the body advances past them.
template <class F>
inline void for_each_block_half(index_t width, index_t height, F&& body) {
  const index_t count = width * height;
  LanePosition at;
  for (index_t f0 = 0; f0 < count; f0 += 8) {
    const index_t n = count - f0 < 8 ? count - f0 : 8;
    const __m256i mask = first_lanes(n);
    const LanePosition start = at;
    for (int half = 0; half < 2; ++half) {
      at = start;
      body(f0, n, mask, half, at);
    }
  }
}

// rows_to_lanes (winograd_kernels.h) 8 values at a time, as two 8 x 8 transposes: images 0-7 to the
// first ymm of each lanes position, images 8-15 to the second.
void rows_to_lanes_avx2(float* lanes, index_t pitch, const float* rows, index_t stride, index_t used, index_t width,
                        index_t height, index_t ahead) {
  for_each_block_half(width, height, [&](index_t f0, index_t n, __m256i mask, int half, LanePosition& at) {
    __m256 r[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      if (8 * half + i >= used) {  // (no address is formed past the images there are)
        r[i] = _mm256_setzero_ps();
        continue;
      }
      const float* src = rows + (8 * half + i) * stride + f0;
      r[i] = _mm256_maskload_ps(src, mask);
      if (ahead != 0) _mm_prefetch(reinterpret_cast<const char*>(src + ahead), _MM_HINT_T0);
    }
    transpose8(r);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j)
      if (j < n) {
        _mm256_storeu_ps(lanes + at.offset + 8 * half, r[j]);
        at.next(width, pitch);
      }
  });
}

void lanes_to_rows_avx2(float* rows, index_t stride, const float* lanes, index_t pitch, index_t used, index_t width,
                        index_t height, bool add, index_t ahead) {
  for_each_block_half(width, height, [&](index_t f0, index_t n, __m256i mask, int half, LanePosition& at) {
    __m256 r[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      r[j] = j < n ? _mm256_loadu_ps(lanes + at.offset + 8 * half) : _mm256_setzero_ps();
      if (j < n) at.next(width, pitch);
    }
    transpose8(r);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      if (8 * half + i < used) {
        float* dst = rows + (8 * half + i) * stride + f0;
        if (ahead != 0) _mm_prefetch(reinterpret_cast<const char*>(dst + ahead), _MM_HINT_T0);
        _mm256_maskstore_ps(dst, mask, add ? _mm256_add_ps(_mm256_maskload_ps(dst, mask), r[i]) : r[i]);
      }
  });
}

}  // namespace

WinogradKernels<float> swinograd_kernels_avx2() {
  WinogradKernels<float> k = winograd_kernels<float, 8, 6, 2>();
  k.transpose = transpose_avx2;
  k.rows_to_lanes = rows_to_lanes_avx2;
  k.lanes_to_rows = lanes_to_rows_avx2;
  return k;
}
WinogradKernels<double> dwinograd_kernels_avx2() { return winograd_kernels<double, 4, 6, 2>(); }

}  // namespace nntrain
