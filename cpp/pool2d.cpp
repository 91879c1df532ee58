#include "pool2d.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "dispatch.h"
#include "scratch.h"

namespace nntrain {

namespace {

// The input rows (or columns) a window covers: [begin, end) clipped to the image, and the count the
// average divides by, which with count_include_pad stops at the padded border, like PyTorch.
struct Span {
  index_t begin, end, padded;
};
inline Span span_of(index_t o, index_t S, index_t P, index_t K, index_t D, index_t size) {
  const index_t start = o * S - P;
  const index_t stop = std::min(start + (K - 1) * D + 1, size + P);
  Span s;
  s.padded = (stop - start + D - 1) / D;
  s.begin = start;
  while (s.begin < 0) s.begin += D;
  s.end = std::min(stop, size);
  return s;
}

inline index_t taps(const Span& s, index_t D) { return s.end > s.begin ? (s.end - s.begin + D - 1) / D : 0; }

}  // namespace

// "v beats the best so far": larger, or NaN (a NaN in a window is its maximum, as in PyTorch). Written
// as a value, not a branch, so the compiler can use blends: window maxima of random data are unpredictable.
template <class T>
inline bool beats(T v, T best) {
  return v > best || v != v;
}

template <class T>
void max_pool_any(T* o, std::int64_t* idx, const T* plane, index_t H, index_t W, index_t OH, index_t OW,
                  const Window2d& win) {
  for (index_t oh = 0; oh < OH; ++oh) {
    const Span rows = span_of(oh, win.SH, win.PH, win.KH, win.DH, H);
    for (index_t ow = 0; ow < OW; ++ow) {
      const Span cols = span_of(ow, win.SW, win.PW, win.KW, win.DW, W);
      T best = -INFINITY;
      index_t best_at = rows.begin * W + cols.begin;
      for (index_t ih = rows.begin; ih < rows.end; ih += win.DH)
        for (index_t iw = cols.begin; iw < cols.end; iw += win.DW) {
          const T v = plane[ih * W + iw];
          // Once the best is NaN nothing beats it (v > NaN is false and v is not NaN, or is a later NaN).
          const bool t = beats(v, best) && best == best;
          best = t ? v : best;
          best_at = t ? ih * W + iw : best_at;
        }
      o[oh * OW + ow] = best;
      idx[oh * OW + ow] = best_at;
    }
  }
}

// Every op below runs in parallel over the (n, c) planes: threads take whole planes, so no two write
// the same element.
const std::int32_t* pool_window_corners(index_t H, index_t W) {
  NN_CHECK(H * W <= INT32_MAX, "2x2 max-pool: an image plane must have fewer than 2^31 values");
  const index_t OH = H / 2, OW = W / 2;
  std::int32_t* corners = thread_scratch<std::int32_t>(kScratchPoolCorners, OH * OW);
  for (index_t oh = 0; oh < OH; ++oh)
    for (index_t ow = 0; ow < OW; ++ow) corners[oh * OW + ow] = std::int32_t(2 * oh * W + 2 * ow);
  return corners;
}

bool pool_indices_in_range(const std::int64_t* indices, index_t count, index_t plane) {
  constexpr index_t kChunk = 4096;
  const index_t chunks = ceil_div(count, kChunk);
  const std::uint64_t limit = static_cast<std::uint64_t>(plane);  // a negative index wraps above it
  int bad = 0;
#pragma omp parallel for schedule(static) num_threads(num_threads()) reduction(| : bad) \
    if (parallel_worth(count) && chunks > 1)
  for (index_t k = 0; k < chunks; ++k) {
    const index_t e = std::min(count, (k + 1) * kChunk);
    int any = 0;  // branch-free, so the loop vectorises
    for (index_t i = k * kChunk; i < e; ++i) any |= static_cast<std::uint64_t>(indices[i]) >= limit;
    bad |= any;
  }
  return !bad;
}

// The 2x2 windows of stride 2 (nearly every small CNN's pooling) go to the vectorised kernel of the ISA in
// use; other windows take the general loop (ceil_mode may add a last window that hangs over the border).
template <class T>
void max_pool2d_forward(T* out, std::int64_t* indices, const T* x, index_t N, index_t C, index_t H, index_t W,
                        const Window2d& win) {
  const index_t OH = win.OH(H), OW = win.OW(W), P = OH * OW;
  // (the corners are int32: a plane of 2^31 values or more takes the general loop)
  const bool two_by_two = win.KH == 2 && win.KW == 2 && win.SH == 2 && win.SW == 2 && win.PH == 0 &&
                          win.PW == 0 && win.DH == 1 && win.DW == 1 && 2 * OH <= H && 2 * OW <= W &&
                          H * W <= INT32_MAX;
  if (two_by_two) {
    const ElementwiseKernels<T>& k = elementwise_kernels<T>();
    const std::int32_t* corners = pool_window_corners(H, W);
    parallel_for(N * C, N * C * P * 4, [&](index_t p) {
      T* at = thread_scratch<T>(kScratchNormPool, P);
      k.max_pool_2x2(out + p * P, indices + p * P, at, x + p * H * W, corners, W, OH, OW);
    });
    return;
  }
  parallel_for(N * C, N * C * P * win.KH * win.KW, [&](index_t p) {
    max_pool_any(out + p * P, indices + p * P, x + p * H * W, H, W, OH, OW, win);
  });
}

template <class T>
void max_pool2d_backward(T* dx, const T* dout, const std::int64_t* indices, index_t N, index_t C, index_t H,
                         index_t W, const Window2d& win, bool accumulate) {
  const index_t P = win.OH(H) * win.OW(W);
  parallel_for(N * C, N * C * (P + H * W), [&](index_t p) {
    T* d = dx + p * H * W;
    if (!accumulate) std::fill(d, d + H * W, T(0));
    const T* g = dout + p * P;
    const std::int64_t* idx = indices + p * P;
    for (index_t k = 0; k < P; ++k) d[idx[k]] += g[k];
  });
}

template <class T>
void avg_pool2d_forward(T* out, const T* x, index_t N, index_t C, index_t H, index_t W, const Window2d& win,
                        bool count_include_pad) {
  const index_t OH = win.OH(H), OW = win.OW(W);
  parallel_for(N * C, N * C * OH * OW * win.KH * win.KW, [&](index_t p) {
    const T* plane = x + p * H * W;
    T* o = out + p * OH * OW;
    for (index_t oh = 0; oh < OH; ++oh) {
      const Span rows = span_of(oh, win.SH, win.PH, win.KH, win.DH, H);
      for (index_t ow = 0; ow < OW; ++ow) {
        const Span cols = span_of(ow, win.SW, win.PW, win.KW, win.DW, W);
        T sum = 0;
        for (index_t ih = rows.begin; ih < rows.end; ih += win.DH)
          for (index_t iw = cols.begin; iw < cols.end; iw += win.DW) sum += plane[ih * W + iw];
        const index_t count = count_include_pad ? rows.padded * cols.padded : taps(rows, win.DH) * taps(cols, win.DW);
        o[oh * OW + ow] = sum / T(count);
      }
    }
  });
}

template <class T>
void avg_pool2d_backward(T* dx, const T* dout, index_t N, index_t C, index_t H, index_t W, const Window2d& win,
                         bool count_include_pad, bool accumulate) {
  const index_t OH = win.OH(H), OW = win.OW(W);
  parallel_for(N * C, N * C * (OH * OW * win.KH * win.KW + H * W), [&](index_t p) {
    T* d = dx + p * H * W;
    if (!accumulate) std::fill(d, d + H * W, T(0));
    const T* g = dout + p * OH * OW;
    for (index_t oh = 0; oh < OH; ++oh) {
      const Span rows = span_of(oh, win.SH, win.PH, win.KH, win.DH, H);
      for (index_t ow = 0; ow < OW; ++ow) {
        const Span cols = span_of(ow, win.SW, win.PW, win.KW, win.DW, W);
        const index_t count = count_include_pad ? rows.padded * cols.padded : taps(rows, win.DH) * taps(cols, win.DW);
        const T share = g[oh * OW + ow] / T(count);
        for (index_t ih = rows.begin; ih < rows.end; ih += win.DH)
          for (index_t iw = cols.begin; iw < cols.end; iw += win.DW) d[ih * W + iw] += share;
      }
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                                \
  template void max_pool2d_forward<T>(T*, std::int64_t*, const T*, index_t, index_t, index_t, index_t,         \
                                      const Window2d&);                                                        \
  template void max_pool2d_backward<T>(T*, const T*, const std::int64_t*, index_t, index_t, index_t, index_t,  \
                                       const Window2d&, bool);                                                 \
  template void avg_pool2d_forward<T>(T*, const T*, index_t, index_t, index_t, index_t, const Window2d&, bool); \
  template void avg_pool2d_backward<T>(T*, const T*, index_t, index_t, index_t, index_t, const Window2d&, bool, \
                                       bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
