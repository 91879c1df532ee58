// The elementwise kernels compiled for AVX-512 (-mavx512f ...); chosen at run time by dispatch.cpp. The
// float 2x2 max-pool kernels take a plane's windows 16 at a time (Avx512Windows below).
#include <immintrin.h>

#include <cstdint>

#include "kernels/elementwise_loops.h"

namespace nntrain {
namespace {

// Lanes [begin, end) of a 16-lane mask, clamped to the vector.
inline __mmask16 lane_range(index_t begin, index_t end) {
  const auto upto = [](index_t n) {
    return n <= 0 ? 0u : n >= 16 ? 0xffffu : (1u << n) - 1u;
  };
  return __mmask16(upto(end) & ~upto(begin));
}

// p - back, as an address: load_pairs reads at it only inside the rows the windows cover (a whole vector
// where it fits there, else the lanes a mask names: masked-out lanes never fault), though the address of a
// masked load may precede the array.
template <class P>
inline P* shifted_back(P* p, index_t back) {
  return reinterpret_cast<P*>(reinterpret_cast<std::uintptr_t>(p) - std::uintptr_t(back) * sizeof(float));
}

// A block of a plane's windows, up to 16: `rows` pooled rows from `oh` (several when a row has fewer than 16
// windows, so that narrow planes fill the vector too), `n` windows of each from column `ow`. Window i of
// row j is lane j n + i, and the block's windows are contiguous in (OH, OW) arrays: they start at oh OW + ow.
struct Block {
  index_t oh, rows, ow, n;
  index_t count() const { return rows * n; }
};

template <class F>
inline void for_each_block(index_t OH, index_t OW, F&& f) {
  if (OH <= 0 || OW <= 0) return;
  if (OW >= 16) {
    for (index_t oh = 0; oh < OH; ++oh)
      for (index_t ow = 0; ow < OW; ow += 16) f(Block{oh, 1, ow, OW - ow < 16 ? OW - ow : 16});
  } else {
    const index_t per = 16 / OW;
    for (index_t oh = 0; oh < OH; oh += per) f(Block{oh, OH - oh < per ? OH - oh : per, 0, OW});
  }
}

// The 2 n values from column 2 ow of input row r + 2 j, for each of the block's rows j, side by side in
// (lo, hi) (32 lanes: row j's at lanes 2 n j ...), then split into the even- and odd-placed ones: each
// window's left and right value of that input row. Whole-vector loads, each blended in, where they end
// before `limit` (the end of the rows the windows cover), so that each row's load is independent of the
// others' (a merging masked load waits for the previous value); masked loads at the end.
inline __m512 part(__m512 into, __mmask16 mask, const float* p, const float* limit) {
  if (mask == 0) return into;
  return _mm512_mask_blend_ps(mask, into, p + 16 <= limit ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask, p));
}

inline void load_pairs(const float* row, index_t W, const Block& b, const float* limit, __m512& left,
                       __m512& right) {
  __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
  for (index_t j = 0; j < b.rows; ++j) {
    const float* r = row + 2 * j * W;
    const index_t start = 2 * b.n * j, end = start + 2 * b.n;
    lo = part(lo, lane_range(start, end), shifted_back(r, start), limit);
    hi = part(hi, lane_range(start - 16, end - 16), shifted_back(r, start - 16), limit);
  }
  left = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
  right = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
}

// window_max (elementwise_loops.h) on 16 windows: the same comparisons and the same order of NaN fixes.
inline void window_max16(__m512 a, __m512 b, __m512 c, __m512 d, __m512& best, __m512& at) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f),
               three = _mm512_set1_ps(3.0f);
  const __mmask16 tb = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ), td = _mm512_cmp_ps_mask(d, c, _CMP_GT_OQ);
  const __m512 top = _mm512_mask_blend_ps(tb, a, b), bottom = _mm512_mask_blend_ps(td, c, d);
  const __mmask16 tf = _mm512_cmp_ps_mask(bottom, top, _CMP_GT_OQ);
  best = _mm512_mask_blend_ps(tf, top, bottom);
  at = _mm512_mask_blend_ps(tf, _mm512_mask_blend_ps(tb, zero, one), _mm512_mask_blend_ps(td, two, three));
  const __m512 values[4] = {a, b, c, d}, places[4] = {zero, one, two, three};
  for (int i = 3; i >= 0; --i) {
    const __mmask16 nan = _mm512_cmp_ps_mask(values[i], values[i], _CMP_UNORD_Q);
    best = _mm512_mask_blend_ps(nan, best, values[i]);
    at = _mm512_mask_blend_ps(nan, at, places[i]);
  }
}

// norm_relu (elementwise_loops.h) on 16 values: its mul_add is a fused multiply-add in this file.
inline __m512 norm_relu16(__m512 x, __m512 scale, __m512 shift) {
  const __m512 v = _mm512_fmadd_ps(x, scale, shift);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, _mm512_setzero_ps());
}

// PortableWindows (elementwise_loops.h) with the forward's step 16 windows at a time, without the corners'
// gathers. (The backward's steps read one value a window through them; done this way they measured no
// faster.)
struct Avx512Windows : PortableWindows {
  template <bool kNormalise>
  static void pool(float* out, float* at, std::uint8_t* window, float* /*y*/, const float* x,
                   const std::int32_t* /*corners*/, index_t W, index_t OH, index_t OW, float scale, float shift) {
    const __m512 s = _mm512_set1_ps(scale), t = _mm512_set1_ps(shift);
    const float* limit = x + 2 * OH * W;
    for_each_block(OH, OW, [&](const Block& b) {
      const float* r0 = x + 2 * b.oh * W + 2 * b.ow;
      __m512 tl, tr, bl, br, best, where;
      load_pairs(r0, W, b, limit, tl, tr);
      load_pairs(r0 + W, W, b, limit, bl, br);
      if (kNormalise) {
        tl = norm_relu16(tl, s, t);
        tr = norm_relu16(tr, s, t);
        bl = norm_relu16(bl, s, t);
        br = norm_relu16(br, s, t);
      }
      window_max16(tl, tr, bl, br, best, where);
      const index_t first = b.oh * OW + b.ow;
      const __mmask16 mask = lane_range(0, b.count());
      _mm512_mask_storeu_ps(out + first, mask, best);
      if (window)
        _mm_mask_storeu_epi8(window + first, mask, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(where)));
      else
        _mm512_mask_storeu_ps(at + first, mask, where);
    });
  }
};

}  // namespace

ElementwiseKernels<float> elementwise_kernels_float_avx512() { return elementwise_table<float, Avx512Windows>(); }
ElementwiseKernels<double> elementwise_kernels_double_avx512() { return elementwise_table<double>(); }

}  // namespace nntrain
