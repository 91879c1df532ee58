// Winograd F(2x2, 3x3) kernels, AVX-512 build (compiled with -mavx512f...; a 16-lane float vector is one
// zmm). 32 zmm registers: a product tile of 8 rows x 2 vectors (16 accumulators). The float transposes
// (between NCHW rows and lanes, and V^T) are 16 x 16 register transposes, their loops unrolled so that the
// 16 registers stay registers (rolled, GCC kept them on the stack and copied them out with rep movs).
#include <immintrin.h>

#include "kernels/winograd_f2.h"

namespace nntrain {
namespace {

// r[i][j] := r[j][i] for a 16 x 16 block of floats held in 16 registers.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

void rows_to_lanes_avx512(float* lanes, index_t pitch, const float* rows, index_t stride, index_t used,
                          index_t width, index_t height, index_t ahead) {
  const index_t count = width * height;
  LanePosition at;
  for (index_t f0 = 0; f0 < count; f0 += kLanes) {
    const index_t n = count - f0 < kLanes ? count - f0 : kLanes;
    const __mmask16 mask = static_cast<__mmask16>((1u << n) - 1u);
    __m512 r[16];
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l) {
      if (l >= used) {  // (no address is formed past the images there are)
        r[l] = _mm512_setzero_ps();
        continue;
      }
      const float* src = rows + l * stride + f0;
      r[l] = _mm512_maskz_loadu_ps(mask, src);
      if (ahead != 0) _mm_prefetch(reinterpret_cast<const char*>(src + ahead), _MM_HINT_T0);
    }
    transpose16(r);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j)
      if (j < n) {
        _mm512_storeu_ps(lanes + at.offset, r[j]);
        at.next(width, pitch);
      }
  }
}

void lanes_to_rows_avx512(float* rows, index_t stride, const float* lanes, index_t pitch, index_t used,
                          index_t width, index_t height, bool add, index_t ahead) {
  const index_t count = width * height;
  LanePosition at;
  for (index_t f0 = 0; f0 < count; f0 += kLanes) {
    const index_t n = count - f0 < kLanes ? count - f0 : kLanes;
    const __mmask16 mask = static_cast<__mmask16>((1u << n) - 1u);
    __m512 r[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      r[j] = j < n ? _mm512_loadu_ps(lanes + at.offset) : _mm512_setzero_ps();
      if (j < n) at.next(width, pitch);
    }
    transpose16(r);
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l)
      if (l < used) {
        float* dst = rows + l * stride + f0;
        if (ahead != 0) _mm_prefetch(reinterpret_cast<const char*>(dst + ahead), _MM_HINT_ET0);
        _mm512_mask_storeu_ps(dst, mask, add ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dst), r[l]) : r[l]);
      }
  }
}

void transpose_avx512(float* dst, index_t ldd, const float* src, index_t lds, index_t rows, index_t cols) {
  for (index_t i0 = 0; i0 < ldd; i0 += kLanes)
    for (index_t k0 = 0; k0 < cols; k0 += kLanes) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int l = 0; l < 16; ++l)
        r[l] = i0 + l < rows ? _mm512_loadu_ps(src + (i0 + l) * lds + k0) : _mm512_setzero_ps();
      transpose16(r);
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) _mm512_storeu_ps(dst + (k0 + j) * ldd + i0, r[j]);
    }
}

}  // namespace

WinogradKernels<float> swinograd_kernels_avx512() {
  WinogradKernels<float> k = winograd_kernels<float, 16, 8, 2>();
  k.rows_to_lanes = rows_to_lanes_avx512;
  k.lanes_to_rows = lanes_to_rows_avx512;
  k.transpose = transpose_avx512;
  return k;
}
WinogradKernels<double> dwinograd_kernels_avx512() { return winograd_kernels<double, 8, 4, 2>(); }

}  // namespace nntrain
